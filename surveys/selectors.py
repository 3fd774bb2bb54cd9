"""Reads of the surveys app, for views, emails, the profile panel and the timeline."""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from core.formats import staff_name
from customers.models import Customer
from metrics import formulas
from surveys.models import FollowUp, Invitation, Response, Survey, SurveyText
from surveys.tokens import hash_token

if TYPE_CHECKING:
    from surveys.filters import ResponseListFilter

LANGUAGE_CODES = [code for code, _ in settings.LANGUAGES]
# token_urlsafe(24) gives 32 characters; anything far outside this shape is not one of ours.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link opens (first email's or reminder's token), or None. Malformed and
    unknown tokens are indistinguishable to the caller.
    """
    if not TOKEN_SHAPE.match(token or ""):
        return None
    digest = hash_token(token)
    return (
        Invitation.objects.select_related("survey", "customer")
        .filter(Q(token_hash=digest) | Q(reminder_token_hash=digest))
        .first()
    )


def invitation_language(invitation: Invitation) -> str:
    """The invitation's language, else the customer's, else English."""
    for code in (invitation.language, invitation.customer.language):
        if code in LANGUAGE_CODES:
            return code
    return settings.LANGUAGE_CODE


def page_language(request: HttpRequest, invitation: Invitation | None) -> str:
    """?lang= (the page's switcher), else the invitation's, else the customer's, else the browser's."""
    requested = request.GET.get("lang", "")
    if requested in LANGUAGE_CODES:
        return requested
    if invitation is not None:
        for code in (invitation.language, invitation.customer.language):
            if code in LANGUAGE_CODES:
                return code
    browser = getattr(request, "LANGUAGE_CODE", "")
    return browser if browser in LANGUAGE_CODES else settings.LANGUAGE_CODE


def survey_text(survey: Survey, language: str) -> SurveyText | None:
    """The survey's text in `language`, else English, else any."""
    texts = {t.language: t for t in survey.texts.all()}
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), None)


def surveys_with_rates() -> QuerySet[Survey]:
    """Every survey with invitations sent, answers and opens (response rate = answered / sent)."""
    return Survey.objects.annotate(
        sent_count=Count("invitations", filter=Q(invitations__sent_at__isnull=False)),
        # Answers to the invitations counted as sent (an answer marks its invitation sent, so this is
        # every answer; the rate cannot exceed 100 %).
        answered_count=Count(
            "invitations", filter=Q(invitations__answered_at__isnull=False, invitations__sent_at__isnull=False)
        ),
        opened_count=Count("invitations", filter=Q(invitations__opened_at__isnull=False)),
        reminded_count=Count("invitations", filter=Q(invitations__reminded_at__isnull=False)),
    ).order_by("name")


def response_rate(answered: int, sent: int) -> Decimal | None:
    return formulas.quantize(formulas.response_rate(answered, sent))


def survey_headline(survey: Survey, distribution: list[dict[str, Any]]) -> dict[str, Any]:
    """The survey's score by the glossary's formulas, from its distribution, with the answer count:
    NPS with its 95 % margin of error, CSAT % satisfied with the mean, CES mean with % easy.
    """
    counts = {row["score"]: row["count"] for row in distribution}
    n = sum(counts.values())
    total = sum(score * c for score, c in counts.items())

    def between(low: int, high: int) -> int:
        return sum(c for score, c in counts.items() if low <= score <= high)

    if survey.kind == Survey.Kind.NPS:
        p, pa, d = between(9, 10), between(7, 8), between(0, 6)
        value = formulas.quantize(formulas.nps(p, pa, d), "1")
        return {
            "n": n,
            "label": "NPS",
            # −0.3 rounds to Decimal("-0"), which would show as "-0".
            "value": abs(value) if value == 0 else value,
            "detail": f"± {formulas.quantize(formulas.nps_margin_of_error(p, pa, d), '0.1')} (95 %)" if n else "",
        }
    if survey.kind == Survey.Kind.CSAT:
        share = formulas.quantize(formulas.csat_from_counts(between(4, 5), n))
        return {
            "n": n,
            "label": "CSAT (% 4–5)",
            "value": f"{share} %" if share is not None else None,
            "detail": f"mean {formulas.quantize(formulas.mean(total, n), '0.01')}" if n else "",
        }
    easy = formulas.quantize(formulas.ces_easy_share(between(5, 7), n))
    return {
        "n": n,
        "label": "CES (mean)",
        "value": formulas.quantize(formulas.mean(total, n), "0.01"),
        "detail": f"{easy} % answered 5–7" if n else "",
    }


def survey_score_distribution(survey: Survey) -> list[dict[str, Any]]:
    """Answers per score over the whole scale (zeros included), for the detail page's bar chart."""
    counts = dict(
        Response.objects.filter(invitation__survey=survey)
        .values_list("score")
        .annotate(n=Count("id"))
        .values_list("score", "n")
    )
    low, high = survey.scale
    total = sum(counts.values()) or 1
    return [
        {
            "score": s,
            "count": counts.get(s, 0),
            # Half up, like every other figure (round() would show 1 of 8 answers as 12 %).
            "percent": formulas.quantize(Decimal(counts.get(s, 0) * 100) / total, "1"),
            "detractor": s <= Survey.DETRACTOR_MAX[survey.kind],
        }
        for s in range(low, high + 1)
    ]


def survey_responses(survey: Survey) -> QuerySet[Response]:
    return (
        Response.objects.filter(invitation__survey=survey)
        .select_related("customer", "invitation")
        .order_by("-submitted_at", "-id")
    )


def follow_up_queue(*, user: AbstractBaseUser, mine: bool = False, status: str = "") -> QuerySet[FollowUp]:
    """Open items first (oldest first), then closed ones (latest closed first)."""
    qs = FollowUp.objects.select_related(
        "customer", "assigned_to", "closed_by", "response", "response__invitation__survey"
    )
    if mine:
        qs = qs.filter(assigned_to=user)
    if status in (FollowUp.Status.OPEN, FollowUp.Status.CLOSED):
        qs = qs.filter(status=status)
    # "open" > "closed" alphabetically, so descending status puts open items first.
    return qs.order_by("-status", "created_at", "id")


def customer_invitations(customer: Customer, limit: int = 10) -> list[Invitation]:
    return list(
        Invitation.objects.filter(customer=customer)
        .select_related("survey", "response", "response__follow_up", "created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_timeline_items(customer: Customer) -> list[dict[str, Any]]:
    """Survey events for the profile timeline: answers and closed follow-ups (with the staff note).
    Each item: at, kind ("survey_answer" | "follow_up_closed"), title, body.
    """
    items: list[dict[str, Any]] = []
    responses = Response.objects.filter(customer=customer).select_related("invitation__survey")
    for r in responses:
        items.append(
            {
                "at": r.submitted_at,
                "kind": "survey_answer",
                "title": f"{r.invitation.survey.name}: {r.score}",
                "body": r.comment,
            }
        )
    follow_ups = FollowUp.objects.filter(customer=customer, status=FollowUp.Status.CLOSED).select_related(
        "closed_by", "response"
    )
    for f in follow_ups:
        who = staff_name(f.closed_by, empty="automatically")
        items.append(
            {
                "at": f.closed_at,
                "kind": "follow_up_closed",
                "title": f"Follow-up closed ({who}) on score {f.response.score}",
                "body": f.note,
            }
        )
    return sorted(items, key=lambda i: i["at"], reverse=True)


def response_list(params: Mapping[str, Any]) -> tuple["ResponseListFilter", QuerySet[Response]]:
    """The staff list of answers: ResponseListFilter applied to `params`, newest first, with what each
    row shows (customer, survey). An invalid filter shows no rows (the form says why)."""
    from surveys.filters import ResponseListFilter

    filterset = ResponseListFilter(params, queryset=Response.objects.all())
    queryset = filterset.qs if filterset.is_valid() else Response.objects.none()
    return filterset, queryset.select_related("customer", "invitation__survey").order_by("-submitted_at", "-id")


PREVIEW_CHUNK = 5000


def send_preview(*, survey: Survey, customers: QuerySet[Customer]) -> dict[str, Any]:
    """Before a bulk email send: how many of `customers` will receive `survey` now and how many will be
    skipped, by reason (surveys.rules.skip_reasons, 2 queries per PREVIEW_CHUNK customers)."""
    from collections import Counter

    from surveys.rules import SkipReason, skip_reasons

    total, skipped = 0, Counter()
    ids = list(customers.order_by().values_list("id", flat=True))
    for start in range(0, len(ids), PREVIEW_CHUNK):
        chunk = list(
            Customer.objects.filter(id__in=ids[start : start + PREVIEW_CHUNK]).only("id", "email", "consent_email")
        )
        total += len(chunk)
        skipped.update(str(reason) for reason in skip_reasons(survey=survey, customers=chunk, channel="email").values())
    return {
        "survey": survey,
        "total": total,
        "receive": total - sum(skipped.values()),
        "skipped": [(SkipReason(reason).label, n) for reason, n in skipped.most_common()],
    }
