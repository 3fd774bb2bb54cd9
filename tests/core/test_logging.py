"""Logs: a refused request is one warning line without a traceback, each line is written once, and
LOG_FORMAT=json writes JSON lines."""

import io
import json
import logging
import sys

import pytest

from core.logs import JsonFormatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> io.StringIO:
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_403_is_one_warning_line_without_a_traceback(outsider_client, console):
    assert outsider_client.get("/customers/").status_code == 403
    output = console.getvalue()
    forbidden = [line for line in output.splitlines() if "Forbidden" in line]
    assert len(forbidden) == 1, output
    assert "WARNING" in forbidden[0]
    assert "Traceback" not in output


def test_a_warning_from_a_django_logger_is_written_once(console):
    logging.getLogger("django.request").warning("Something odd")
    assert console.getvalue().count("Something odd") == 1


def test_the_json_formatter_writes_one_object_per_line_with_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("rapport", logging.ERROR, __file__, 1, "Failed %s", ("job",), sys.exc_info())
    record.status_code = 500
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"], entry["status_code"]) == (
        "ERROR",
        "rapport",
        "Failed job",
        500,
    )
    assert "ValueError: boom" in entry["exception"]
