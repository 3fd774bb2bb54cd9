"""Input that cannot be handled is refused at the edge with a 4xx, before any view or middleware reads it.

- NUL characters and unpaired surrogates in the path, the query string, the headers and form bodies: 400.
- A form or JSON body declared in a charset other than UTF-8 (e.g. charset=utf-16), or that does not decode:
  400, and the body is marked unreadable so nothing later (CSRF check, error reporting) re-reads it.
- A body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413.
- A POST to the public survey pages that is not a form: 415.

JSON content (nesting, NUL and surrogates inside strings) is checked where it is parsed, by
core.parsers.SafeJSONParser; multipart text fields are checked by the forms (Django's CharField refuses NUL).
Every refusal is logged as a warning on the "rapport.security" logger.
"""

import logging
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict

from core.errors import PUBLIC_PREFIX, error_response
from core.text import text_problem

logger = logging.getLogger("rapport.security")

UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _check_text(where: str, value: object) -> None:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise Refused(400, f"{where} contains {problem}")


def _check_request_line_and_headers(request: HttpRequest) -> None:
    _check_text("The path", request.path_info)
    for name, value in request.META.items():
        if name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH", "QUERY_STRING"):
            _check_text(f"Header {name}", value)
    for key, values in request.GET.lists():
        _check_text("A query parameter name", key)
        for value in values:
            _check_text(f"Query parameter {key!r}", value)


def _check_body(request: HttpRequest) -> None:
    if request.method not in BODY_METHODS:
        return
    content_type = request.content_type or ""
    public_post = request.path_info.startswith(PUBLIC_PREFIX) and request.method == "POST"
    if public_post and content_type not in (FORM, MULTIPART):
        raise Refused(415, f"content type {content_type!r} on a public page")
    if content_type not in (FORM, MULTIPART) and not _is_json(content_type):
        return
    charset = (request.content_params or {}).get("charset", "").strip().lower()
    if charset and charset not in UTF8_NAMES:
        raise Refused(400, f"charset {charset!r} (only UTF-8 is accepted)")
    if content_type == MULTIPART:
        return  # streamed to the upload handlers; the forms check the fields
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise Refused(413, "body larger than DATA_UPLOAD_MAX_MEMORY_SIZE") from exc
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, "body is not valid UTF-8") from exc
    if content_type == FORM:
        try:
            fields = request.POST
        except SuspiciousOperation as exc:  # e.g. too many fields
            raise Refused(400, type(exc).__name__) from exc
        for key, values in fields.lists():
            _check_text("A form field name", key)
            for value in values:
                _check_text(f"Form field {key!r}", value)


class RejectBadInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            _check_request_line_and_headers(request)
            _check_body(request)
        except Refused as refused:
            # Nothing after this may read the body again (Django's own error paths would otherwise retry).
            request._post, request._files = QueryDict(), MultiValueDict()
            logger.warning(
                "Refused %s %r with %d: %s",
                request.method,
                request.path_info.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace"),
                refused.status,
                refused.reason,
            )
            return error_response(request, refused.status)
        return self.get_response(request)
