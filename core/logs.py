"""Logging helpers for config.settings.LOGGING: one line per event, JSON lines when LOG_FORMAT=json.

* `NoForbiddenTraceback`: a 403 is the permission system working, not an error; django.request logs it
  at WARNING with the exception attached, which printed a full traceback per refused request. The filter
  keeps the line and drops the traceback.
* `JsonFormatter`: one JSON object per line (time, level, logger, message, and the request's status code
  and a traceback when there are any), for log collectors.
"""

import json
import logging
from datetime import UTC, datetime


class NoForbiddenTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.levelno <= logging.WARNING:
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        status_code = getattr(record, "status_code", None)
        if status_code is not None:
            entry["status_code"] = status_code
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
