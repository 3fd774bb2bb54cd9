"""Staff survey pages (agent and above): surveys and response rates, the follow-up queue, sending."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.formats import staff_name
from customers.filters import customer_filter
from customers.models import Customer
from customers.record_views import filtered_list_page
from customers.roles import Role, role_required
from surveys.forms import BulkSendForm, FollowUpCloseForm, InviteForm
from surveys.models import FollowUp, Survey, SurveySendJob
from surveys.rules import SkipReason
from surveys.selectors import (
    follow_up_queue,
    response_rate,
    send_preview,
    survey_headline,
    survey_responses,
    survey_score_distribution,
    surveys_with_rates,
)
from surveys.selectors import (
    response_list as selectors_response_list,
)
from surveys.services import follow_up_close, invitation_send, send_job_create
from surveys.tokens import invitation_url


@role_required(Role.AGENT)
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    surveys = list(surveys_with_rates())
    for s in surveys:
        s.rate = response_rate(s.answered_count, s.sent_count)
    jobs = SurveySendJob.objects.select_related("survey", "created_by")[:5]
    return render(request, "surveys/survey_list.html", {"surveys": surveys, "jobs": jobs})


@role_required(Role.AGENT)
@require_GET
def survey_detail(request: HttpRequest, slug: str) -> HttpResponse:
    survey = get_object_or_404(surveys_with_rates().prefetch_related("texts"), slug=slug)
    survey.rate = response_rate(survey.answered_count, survey.sent_count)
    page = Paginator(survey_responses(survey), 25).get_page(request.GET.get("page"))
    open_follow_ups = FollowUp.objects.filter(response__invitation__survey=survey, status=FollowUp.Status.OPEN).count()
    distribution = survey_score_distribution(survey)
    context = {
        "survey": survey,
        "distribution": distribution,
        "headline": survey_headline(survey, distribution),
        "page": page,
        "open_follow_ups": open_follow_ups,
    }
    return render(request, "surveys/survey_detail.html", context)


@role_required(Role.AGENT)
@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "1"
    status = request.GET.get("status", "")
    if status not in ("", FollowUp.Status.OPEN, FollowUp.Status.CLOSED):
        status = ""
    queue = follow_up_queue(user=request.user, mine=mine, status=status)
    page = Paginator(queue, 25).get_page(request.GET.get("page"))
    counts = FollowUp.objects.aggregate(
        open_all=Count("id", filter=Q(status=FollowUp.Status.OPEN)),
        open_mine=Count("id", filter=Q(status=FollowUp.Status.OPEN, assigned_to=request.user)),
    )
    base = {k: v for k, v in (("mine", "1" if mine else ""), ("status", status)) if v}
    context = {
        "page": page,
        "mine": mine,
        "status": status,
        "counts": counts,
        "query": urlencode(base),
        "next": request.get_full_path(),
        "form": FollowUpCloseForm(),
    }
    return render(request, "surveys/followup_list.html", context)


@role_required(Role.AGENT)
@require_POST
def follow_up_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_object_or_404(FollowUp, pk=pk)
    form = FollowUpCloseForm(request.POST)
    if form.is_valid():
        try:
            follow_up_close(follow_up=follow_up, note=form.cleaned_data["note"], closed_by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Follow-up for {follow_up.customer.name} closed. The note is on the timeline.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("surveys:follow_ups")
    return redirect(target)


@role_required(Role.AGENT)
def send_to_customers(request: HttpRequest) -> HttpResponse:
    """/surveys/send/?<customer filter or ?segment=slug>: bulk send to everyone the filter matches."""
    params = request.GET.copy()
    params.pop("page", None)
    filterset = customer_filter(params)
    valid = filterset.is_valid()
    count = filterset.qs.count() if valid else 0
    form = BulkSendForm(request.POST or None)
    preview = None
    if request.method == "POST" and valid and form.is_valid():
        confirmed = request.POST.get("confirm_count") == str(count)
        if not count:
            messages.error(request, "No customers match this filter: nothing to send.")
        elif not confirmed:
            # First the counts (who will receive it, who will be skipped and why), then a second,
            # confirming POST; a changed count since the preview asks again.
            preview = send_preview(survey=form.cleaned_data["survey"], customers=filterset.qs)
        else:
            ids = list(filterset.qs.order_by().values_list("id", flat=True))
            description = params.urlencode()
            job = send_job_create(
                survey=form.cleaned_data["survey"], customer_ids=ids, created_by=request.user, description=description
            )
            return redirect("surveys:send_job", pk=job.pk)
    # A chosen person is named as every page names them, not by the id in the query string.
    cleaned = filterset.form.cleaned_data if valid else {}
    people = {k: staff_name(v) for k, v in cleaned.items() if isinstance(v, get_user_model())}
    describe = [
        f"{filterset.form.fields[k].label or k}: {people.get(k, v)}"
        for k, v in params.items()
        if v and k in filterset.form.fields
    ]
    context = {
        "form": form,
        "filter": filterset,
        "valid": valid,
        "count": count,
        "describe": describe,
        "query": params.urlencode(),
        "preview": preview,
    }
    return render(request, "surveys/send_form.html", context, status=200 if valid else 400)


def _job_json(job: SurveySendJob) -> dict:
    reasons = []
    for code, n in sorted(job.skipped_reasons.items(), key=lambda kv: -kv[1]):
        label = SkipReason(code).label if code in SkipReason.values else code.replace("_", " ").capitalize()
        reasons.append({"code": code, "label": label, "count": n})
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "total": job.total,
        "processed": job.processed,
        "sent": job.sent,
        "skipped": job.skipped,
        "percent": job.percent,
        "skipped_reasons": reasons,
        "error": job.error,
    }


@role_required(Role.AGENT)
@require_GET
def send_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(SurveySendJob.objects.select_related("survey", "created_by"), pk=pk)
    return render(request, "surveys/send_job.html", {"job": job, "data": _job_json(job)})


@role_required(Role.AGENT)
@require_GET
def send_job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    job = get_object_or_404(SurveySendJob, pk=pk)
    return JsonResponse(_job_json(job))


def _not_sent_message(survey: Survey, customer: Customer, reason: str) -> str:
    """ "Not sent: <reason>.", with, for a fatigue rule, the day the customer can be asked again and the override."""
    from core.formats import format_date
    from surveys.rules import FATIGUE_REASONS, asked_again_from

    message = _("Not sent: %(reason)s.") % {"reason": SkipReason(reason).label if reason else ""}
    if reason in FATIGUE_REASONS:
        again = asked_again_from(survey=survey, customer=customer, reason=reason)
        if again is not None:
            message += " " + _("%(customer)s can be asked again from %(day)s.") % {
                "customer": customer.name,
                "day": format_date(again),
            }
        message += " " + _("To send it now, tick “Send even if the cooldown or recontact rule says no”.")
    return message


@role_required(Role.AGENT)
@require_POST
def customer_invite(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """From the profile panel: make a link to copy (shown once), or email it."""
    customer = get_object_or_404(Customer, pk=customer_pk)
    profile = f"/customers/{customer.pk}/"
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an active survey and whether to copy a link or email it.")
        return redirect(profile)
    outcome = invitation_send(
        survey=form.cleaned_data["survey"],
        customer=customer,
        channel=form.channel,
        created_by=request.user,
        enforce_fatigue=not form.cleaned_data["override"],
    )
    if outcome.invitation is None:
        messages.error(request, _not_sent_message(form.cleaned_data["survey"], customer, outcome.skipped_reason or ""))
        return redirect(profile)
    if form.cleaned_data["action"] == "email":
        messages.success(request, f"{form.cleaned_data['survey'].name} emailed to {customer.email}.")
        return redirect(profile)
    context = {"customer": customer, "invitation": outcome.invitation, "url": invitation_url(outcome.token)}
    return render(request, "surveys/invitation_created.html", context, status=201)


@role_required(Role.AGENT)
@require_GET
def response_list(request: HttpRequest) -> HttpResponse:
    """Survey answers (ResponseListFilter), e.g. a report period's detractors; comments included."""
    return filtered_list_page(request, selectors_response_list, "surveys/response_list.html")
