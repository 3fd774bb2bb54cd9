"""CSV downloads that spreadsheet programs open safely and correctly.

* UTF-8 with a byte order mark, so Excel reads Thai and Chinese text as UTF-8 instead of the
  machine's legacy code page; CRLF line ends (RFC 4180).
* Cells a spreadsheet would run as a formula (text starting with = + - @, a tab or a carriage
  return) get a leading single quote, so a customer named "=HYPERLINK(...)" stays text.
  Numbers are written as numbers: a negative NPS is data, not a formula.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv; charset=utf-8"


def neutralise(value: Any) -> Any:
    """The value as a CSV cell: text that would start a formula is prefixed with a single quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Line:
    """A file-like sink that hands back what csv.writer wrote for one row."""

    def write(self, value: str) -> str:
        return value


def csv_lines(headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The BOM, then one CRLF-terminated line per row (headers first), every cell neutralised."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield BOM
    yield writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def csv_filename(*parts: str) -> str:
    """e.g. ("vip-customers", "nps") → "vip-customers-nps-2026-11-24.csv" (local date)."""
    stem = "-".join(slugify(p, allow_unicode=True) for p in parts if p) or "export"
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.csv"


def _disposition(response: HttpResponse | StreamingHttpResponse, filename: str) -> None:
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"


def csv_response(filename: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    """A whole CSV in memory: for report tables (a few hundred rows at most)."""
    response = HttpResponse("".join(csv_lines(headers, rows)).encode("utf-8"), content_type=CONTENT_TYPE)
    _disposition(response, filename)
    return response


def csv_streaming_response(
    filename: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A CSV written while it downloads: for customer lists of any length."""
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(headers, rows)), content_type=CONTENT_TYPE
    )
    _disposition(response, filename)
    return response
