"""Support pages: My work (the agents' landing page), assignment, priority, notifications."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from customers.models import Interaction
from customers.roles import Role, role_required
from support import selectors, services
from support.filters import OPEN_STATUSES
from support.forms import AssignForm, BulkForm, EmailMuteForm, PriorityForm
from support.models import EmailMute
from support.notifications import email_mutes_set, notifications_mark_read

WORK_PER_PAGE = 50
FOLLOW_UPS_SHOWN = 50
NOTIFICATIONS_PER_PAGE = 30


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


def _scope(request: HttpRequest) -> str:
    scope = request.GET.get("scope", "mine")
    if scope not in selectors.SCOPES or (scope == "all" and not selectors.can_see_all(request.user)):
        return "mine"
    return scope


@role_required(Role.AGENT)
def work(request: HttpRequest) -> HttpResponse:
    """Open interactions and follow-ups of a scope, due first, with bulk actions (confirmed first)."""
    if request.method == "POST":
        return _bulk(request)
    return _render_work(request)


def _render_work(request: HttpRequest, bulk_form: BulkForm | None = None, status: int = 200) -> HttpResponse:
    scope = _scope(request)
    filterset, interactions = selectors.work_queue(user=request.user, scope=scope, params=request.GET)
    page = Paginator(interactions, WORK_PER_PAGE).get_page(request.GET.get("page"))
    assignee_filter = (
        filterset.form.cleaned_data.get("assignee") if filterset.is_bound and filterset.is_valid() else None
    )
    follow_ups = selectors.open_follow_ups(
        user=request.user, scope=scope, assignee_id=assignee_filter.pk if assignee_filter else None
    )[:FOLLOW_UPS_SHOWN]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "support/work.html",
        {
            "scope": scope,
            "scopes": [
                (k, v) for k, v in selectors.SCOPES.items() if k != "all" or selectors.can_see_all(request.user)
            ],
            "filter": filterset,
            "page": page,
            "follow_ups": list(follow_ups),
            "bulk_form": bulk_form or BulkForm(),
            "query": params.urlencode(),
            "next": request.get_full_path(),
        },
        status=status,
    )


def _bulk(request: HttpRequest) -> HttpResponse:
    from surveys.models import FollowUp

    form = BulkForm(request.POST)
    if not form.is_valid():
        # The page again with what was typed (the note) kept, and why nothing happened.
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return _render_work(request, bulk_form=form, status=400)
    data = form.cleaned_data
    # Only open rows are acted on; ids of rows closed meanwhile (or made up) are left out of the count.
    interactions = list(
        Interaction.objects.filter(pk__in=data["interactions"], status__in=OPEN_STATUSES).order_by("pk")
    )
    follow_ups = list(FollowUp.objects.filter(pk__in=data["follow_ups"], status=FollowUp.Status.OPEN).order_by("pk"))
    count = len(follow_ups) if data["action"] == "close_follow_ups" else len(interactions)
    if count == 0:
        messages.error(request, "None of the ticked rows is still open.")
        return _render_work(request, bulk_form=form, status=400)
    if not data["confirm"]:
        return render(
            request,
            "support/bulk_confirm.html",
            {
                "form": form,
                "data": data,
                "count": count,
                "interactions": interactions,
                "follow_ups": follow_ups,
                "next": request.POST.get("next", ""),
            },
        )
    try:
        if data["action"] == "assign":
            result = services.bulk_assign(interactions=interactions, assignee=data["assignee"], actor=request.user)
            messages.success(request, f"{result.done} interactions assigned.")
        elif data["action"] == "resolve":
            result = services.bulk_resolve(interactions=interactions, actor=request.user)
            messages.success(request, f"{result.done} interactions resolved.")
        else:
            result = services.bulk_close_follow_ups(follow_ups=follow_ups, note=data["note"], actor=request.user)
            messages.success(request, f"{result.done} follow-ups closed.")
    except ValidationError as error:
        messages.error(request, "Nothing was changed: " + " ".join(error.messages))
    return _back(request, reverse("support:work"))


@role_required(Role.AGENT)
@require_POST
def interaction_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign (fields assignee, team) or take (field take) from the profile, interaction page or queue."""
    interaction = get_object_or_404(Interaction, pk=pk)
    default = reverse("customers:interaction", args=[pk])
    try:
        if request.POST.get("take"):
            services.interaction_take(interaction=interaction, actor=request.user)
            messages.success(request, f"You took “{interaction.subject}”.")
            return _back(request, default)
        form = AssignForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("Choose someone with a role and an existing team.")
        fields: dict[str, Any] = {"assignee": form.cleaned_data["assignee"]}
        if "team" in request.POST:
            fields["team"] = form.cleaned_data["team"]
        services.interaction_assign(interaction=interaction, actor=request.user, **fields)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Assignment saved.")
    return _back(request, default)


@role_required(Role.AGENT)
@require_POST
def interaction_priority(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = get_object_or_404(Interaction, pk=pk)
    form = PriorityForm(request.POST)
    if form.is_valid():
        services.interaction_set_priority(
            interaction=interaction, priority=form.cleaned_data["priority"], actor=request.user
        )
        messages.success(request, "Priority saved; due times follow its SLA policy.")
    else:
        return HttpResponseBadRequest("Choose low, normal, high or urgent.")
    return _back(request, reverse("customers:interaction", args=[pk]))


@role_required(Role.AGENT)
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if "muted" in request.POST or request.POST.get("form") == "mutes":
            form = EmailMuteForm(request.POST)
            if form.is_valid():
                email_mutes_set(user=request.user, muted_kinds=set(form.cleaned_data["muted"]))
                messages.success(request, "Email settings saved.")
            else:
                messages.error(request, "Unknown kind of notification.")
        else:
            ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
            notifications_mark_read(user=request.user, ids=ids)
        return redirect("support:notifications")
    page = Paginator(selectors.notifications_of(request.user), NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    muted = list(EmailMute.objects.filter(user=request.user).values_list("kind", flat=True))
    return render(
        request,
        "support/notification_list.html",
        {"page": page, "mute_form": EmailMuteForm(initial={"muted": muted})},
    )


@role_required(Role.AGENT)
def nav_counts(request: HttpRequest) -> JsonResponse:
    """The navigation's badges, fetched by the page after it loads (the page itself runs no count)."""
    return JsonResponse(selectors.nav_counts(request.user))
