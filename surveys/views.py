"""The public answer pages at /s/<token>/: no account, the customer's language, rate-limited.

Status codes: 404 unknown or tampered link (same page, no enumeration), 410 expired link,
400 bad input, 403 missing/bad CSRF token, 409 replayed or concurrent submit, 429 too many
requests. Opening a link (GET) never records an answer; only the form's POST does.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from surveys.forms import AnswerForm
from surveys.models import Invitation, Response
from surveys.selectors import invitation_by_token, page_language, survey_text
from surveys.services import AnswerConflict, InvitationExpired, invitation_open, response_submit

# One budget per client address for all public survey pages.
RATE_GROUP = "surveys.public"


def _rate(group: str, request: HttpRequest) -> str:
    return settings.SURVEY_RATE_LIMIT


def _csrf_rejected(request: HttpRequest) -> bool:
    """Run Django's CSRF check here so a failure gets our translated page instead of the default."""
    return CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {}) is not None


def _languages(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    """The language switcher: the same page in each language (other query parameters kept)."""
    items = []
    for code, name in settings.LANGUAGES:
        params = {k: v for k, v in request.GET.items() if k in ("score",)}
        params["lang"] = code
        items.append({"code": code, "name": name, "url": f"?{urlencode(params)}", "current": code == current})
    return items


def _page(
    request: HttpRequest, template: str, language: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {**context, "page_language": language, "languages": _languages(request, language)}
    response = render(request, template, context, status=status)
    response["Content-Language"] = language
    # Personal links must not end up in shared caches or in referrers sent to other sites
    # ("no-referrer" would make browsers send "Origin: null" and fail the CSRF check).
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _answer_context(
    invitation: Invitation, language: str, form: AnswerForm, selected: int | None, response: Response | None
) -> dict[str, Any]:
    return {
        "invitation": invitation,
        "first_name": invitation.customer.greeting_name,
        "text": survey_text(invitation.survey, language),
        "form": form,
        "scale": list(form.scale),
        "selected": selected,
        "response": response,
        "revision": response.revision if response else 0,
        "action": f"?{urlencode({'lang': language})}",
    }


def _preselected(request: HttpRequest, invitation: Invitation) -> int | None:
    """?score=N from an email's score link: preselects a button, records nothing."""
    low, high = invitation.survey.scale
    try:
        value = int(request.GET.get("score", ""))
    except ValueError:
        return None
    return value if low <= value <= high else None


def _limited(request: HttpRequest, token: str) -> HttpResponse:
    language = page_language(request, invitation_by_token(token))
    with translation.override(language):
        return _page(request, "surveys/public_rate_limited.html", language, {}, status=429)


@csrf_exempt  # checked in the view, to answer with a translated page
@ratelimit(group=RATE_GROUP, key="ip", rate=_rate, method=ratelimit.ALL, block=False)
def answer(request: HttpRequest, token: str) -> HttpResponse:
    if getattr(request, "limited", False):
        return _limited(request, token)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    invitation = invitation_by_token(token)
    language = page_language(request, invitation)
    with translation.override(language):
        if invitation is None:
            return _page(request, "surveys/public_invalid.html", language, {}, status=404)
        if invitation.is_expired():
            context = {"first_name": invitation.customer.greeting_name, "answered": invitation.answered_at}
            return _page(request, "surveys/public_closed.html", language, context, status=410)
        survey = invitation.survey
        if request.method != "POST":
            if request.method == "GET":
                invitation_open(invitation=invitation)
            response = Response.objects.filter(invitation=invitation).first()
            selected = _preselected(request, invitation) if response is None else response.score
            initial = {"comment": response.comment} if response else {}
            form = AnswerForm(survey=survey, initial=initial)
            context = _answer_context(invitation, language, form, selected, response)
            return _page(request, "surveys/public_answer.html", language, context)
        if _csrf_rejected(request):
            return _page(request, "surveys/public_csrf.html", language, {"retry_url": request.path}, status=403)
        form = AnswerForm(request.POST, survey=survey)
        if not form.is_valid():
            selected = form.cleaned_data.get("score") if hasattr(form, "cleaned_data") else None
            response = Response.objects.filter(invitation=invitation).first()
            context = _answer_context(invitation, language, form, selected, response)
            return _page(request, "surveys/public_answer.html", language, context, status=400)
        revision = form.cleaned_data.get("revision")
        try:
            response_submit(
                invitation_id=invitation.pk,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                language=language,
                expected_revision=revision if revision is not None else 0,
            )
        except InvitationExpired:
            context = {"first_name": invitation.customer.greeting_name, "answered": invitation.answered_at}
            return _page(request, "surveys/public_closed.html", language, context, status=410)
        except AnswerConflict:
            current = Response.objects.filter(invitation=invitation).first()
            form = AnswerForm(survey=survey, initial={"comment": current.comment if current else ""})
            context = _answer_context(invitation, language, form, current.score if current else None, current)
            context["conflict"] = True
            return _page(request, "surveys/public_answer.html", language, context, status=409)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, messages)
            response = Response.objects.filter(invitation=invitation).first()
            context = _answer_context(invitation, language, form, None, response)
            return _page(request, "surveys/public_answer.html", language, context, status=400)
        thanks = reverse("surveys:thanks", kwargs={"token": token})
        return HttpResponseRedirect(f"{thanks}?{urlencode({'lang': language})}", status=303)


@ratelimit(group=RATE_GROUP, key="ip", rate=_rate, method=ratelimit.ALL, block=False)
@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    if getattr(request, "limited", False):
        return _limited(request, token)
    invitation = invitation_by_token(token)
    language = page_language(request, invitation)
    with translation.override(language):
        if invitation is None:
            return _page(request, "surveys/public_invalid.html", language, {}, status=404)
        response = Response.objects.filter(invitation=invitation).first()
        if response is None:
            return HttpResponseRedirect(reverse("surveys:answer", kwargs={"token": token}))
        context = {
            "first_name": invitation.customer.greeting_name,
            "response": response,
            "invitation": invitation,
            "can_change": not invitation.is_expired(),
            "change_url": f"{reverse('surveys:answer', kwargs={'token': token})}?{urlencode({'lang': language})}",
        }
        return _page(request, "surveys/public_thanks.html", language, context)
