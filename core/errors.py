"""Error answers that never fail themselves: 400, 413, 415 and 500 pages, JSON under /api/.

The handlers read nothing from the request body (it may be the very thing that could not be decoded)
and the 500 handler renders without context processors, so it works with the database down. The public
survey pages (/s/<token>/...) answer in the link's language, like the pages themselves.
"""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger("rapport.errors")

PUBLIC_PREFIX = "/s/"
API_PREFIX = "/api/"

API_MESSAGES = {
    400: "Bad request.",
    413: "Request body too large.",
    415: "Unsupported media type.",
    500: "Server error. The error has been logged.",
}


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _public_language(request: HttpRequest, *, lookup: bool) -> str:
    """The link's language: ?lang=, else the invitation's or the customer's (if `lookup`), else the browser's."""
    from django.conf import settings

    codes = {code for code, _name in settings.LANGUAGES}
    requested = request.GET.get("lang", "") if "lang=" in request.META.get("QUERY_STRING", "") else ""
    if requested in codes:
        return requested
    if lookup:
        try:
            from surveys.selectors import invitation_by_token

            token = request.path_info[len(PUBLIC_PREFIX) :].split("/", 1)[0]
            invitation = invitation_by_token(token)
            if invitation is not None:
                for code in (invitation.language, invitation.customer.language):
                    if code in codes:
                        return code
        except Exception:
            logger.debug("No invitation language for the error page", exc_info=True)
    browser = translation.get_language_from_request(request)
    return browser if browser in codes else settings.LANGUAGE_CODE


def _texts(status: int) -> tuple[str, str]:
    if status == 413:
        return _("Too much data"), _("What you sent is too large. Please shorten it and try again.")
    if status == 415:
        return _("Not understood"), _("Your browser sent the form in a format we do not accept. Please try again.")
    if status == 500:
        return _("Something went wrong"), _(
            "Sorry, we could not handle this just now. Nothing you did caused it; please try again in a few minutes."
        )
    return _("Something is wrong with this request"), _(
        "We could not read what your browser sent. Please go back, reload the page and try again."
    )


def error_response(request: HttpRequest, status: int, detail: str | None = None) -> HttpResponse:
    """The error answer for `status` (400, 413, 415 or 500) in the form this address needs."""
    if is_api(request):
        return JsonResponse({"detail": detail or API_MESSAGES.get(status, "Error.")}, status=status)
    public = request.path_info.startswith(PUBLIC_PREFIX)
    language = _public_language(request, lookup=public and status != 500) if public else None
    with translation.override(language or translation.get_language()):
        title, message = _texts(status)
        template = "errors/public.html" if public else f"{status}.html"
        context: dict[str, Any] = {
            "status": status,
            "title": title,
            "message": message,
            "page_language": language or translation.get_language(),
            "languages": [],
        }
        body = loader.get_template(template).render(context)
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    if public:
        response["Content-Language"] = language
        response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: Django sends SuspiciousOperation here, including a body over DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, 413)
    logger.warning("Bad request %s %r: %s", request.method, request.path_info, type(exception).__name__)
    return error_response(request, 400)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 (Django has already logged the exception through django.request)."""
    return error_response(request, 500)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a Django ValidationError from a service is a 400 with its messages, and
    anything else is left to Django, whose handler500 (above) answers JSON for /api/."""
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        data = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(data, status=400)
    return exception_handler(exc, context)
