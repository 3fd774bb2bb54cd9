"""Staff pages for customers and interactions. Thin: reads in selectors, writes in services, checks in forms."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import selectors, services
from customers.audit import customer_audit_trail, interaction_audit_trail
from customers.forms import (
    CustomerForm,
    CustomerImportForm,
    ErasureForm,
    InteractionForm,
    InteractionQuickForm,
    ReplyForm,
    tidy_filter_form,
)
from customers.import_jobs import import_job_create, job_result
from customers.imports import COLUMNS as IMPORT_COLUMNS
from customers.models import Customer, CustomerImportJob, Interaction
from customers.privacy import customer_erase, customer_export
from customers.roles import Role, role_required
from customers.timeline import customer_timeline_page

CUSTOMERS_PER_PAGE = 25


def _add_errors(form: Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form (field errors on their fields, the rest on top)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@role_required(Role.AGENT)
def customer_list(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "name")
    if sort not in selectors.CUSTOMER_SORTS:
        sort = "name"
    filterset, customers = selectors.customer_list(request.GET, sort=sort)
    tidy_filter_form(filterset.form)
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    # The filter query string (no page, no sort) is what the survey, segment and export links carry.
    params = request.GET.copy()
    for key in ("page", "sort"):
        params.pop(key, None)
    params = params.copy()
    for key in [k for k, v in params.lists() if not any(v)]:
        del params[key]
    # Nothing matched: say what each filter does (bounded counts, only on an empty page).
    hints = (
        selectors.customer_filter_hints(params) if params and filterset.is_valid() and not page.paginator.count else []
    )
    return render(
        request,
        "customers/customer_list.html",
        {
            "filter": filterset,
            "page": page,
            "sort": sort,
            "filter_query": params.urlencode(),
            "is_filtered": bool(params),
            "hints": hints,
        },
    )


@role_required(Role.AGENT)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_profile(pk)
    quick_form = InteractionQuickForm(request.POST or None)
    if request.method == "POST" and quick_form.is_valid():
        try:
            interaction = services.interaction_create(customer=customer, staff=request.user, **quick_form.cleaned_data)
        except ValidationError as error:
            _add_errors(quick_form, error)
        else:
            messages.success(request, f"Interaction “{interaction.subject}” logged.")
            return redirect("customers:detail", pk=customer.pk)
    context = {
        "customer": customer,
        "quick_form": quick_form,
        "timeline": customer_timeline_page(customer, request.GET.get("page")),
        "audit": customer_audit_trail(customer),
    }
    return render(request, "customers/customer_detail.html", context)


@role_required(Role.AGENT)
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(actor=request.user, tags=form.tag_names(), **form.service_fields())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Customer “{customer.name}” created.")
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": None})


@role_required(Role.AGENT)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.prefetch_related("tags"), pk=pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            # The form has already copied its values onto `customer`; the service validates and saves them.
            services.customer_update(
                customer=Customer.objects.get(pk=pk), actor=request.user, tags=form.tag_names(), **form.service_fields()
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Customer “{customer.name}” saved.")
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@role_required(Role.AGENT)
def customer_import(request: HttpRequest) -> HttpResponse:
    """The upload form; a valid upload becomes an import job (customers.import_jobs) and its page."""
    form = CustomerImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_job_create(
            raw=upload.read(),
            file_name=upload.name or "",
            valid_rows_only=form.cleaned_data["valid_rows_only"],
            update_existing=form.cleaned_data["update_existing"],
            created_by=request.user,
        )
        return redirect("customers:import_job", pk=job.pk)
    return render(request, "customers/customer_import.html", {"form": form, "columns": IMPORT_COLUMNS})


@role_required(Role.AGENT)
def import_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress while the job runs (the page refreshes itself), then the per-row report."""
    job = get_object_or_404(CustomerImportJob.objects.select_related("created_by").defer("data"), pk=pk)
    context = {
        "job": job,
        "result": job_result(job),
        "file_error": job.file_error,
        "form": CustomerImportForm(),
        "columns": IMPORT_COLUMNS,
    }
    return render(request, "customers/import_job.html", context)


@role_required(Role.AGENT)
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from support.forms import AssignForm, PriorityForm
    from support.replies import is_emailed

    interaction = get_object_or_404(Interaction.objects.select_related("customer", "staff", "assignee", "team"), pk=pk)
    reply_form = ReplyForm(request.POST or None)
    # Two actions on one text box: an internal note, or a reply to the customer (emailed on email threads).
    visibility = "note" if request.POST.get("visibility") == "note" else "reply"
    if request.method == "POST" and reply_form.is_valid():
        try:
            reply = services.interaction_reply(
                interaction=interaction,
                author=request.user,
                body=reply_form.cleaned_data["body"],
                visibility=visibility,
            )
        except ValidationError as error:
            _add_errors(reply_form, error)
        else:
            if visibility == "note":
                messages.success(request, "Internal note added.")
            elif reply.delivery == reply.Delivery.FAILED:
                messages.error(request, f"Reply recorded but not sent: {reply.delivery_error}")
            elif reply.delivery:
                messages.success(request, f"Reply is being emailed to {interaction.customer.email}.")
            else:
                messages.success(request, "Reply recorded (not sent: this channel is not email).")
            return redirect("customers:interaction", pk=interaction.pk)
    context = {
        "interaction": interaction,
        "customer": interaction.customer,
        "replies": interaction.replies.select_related("author"),
        "reply_form": reply_form,
        "emailed": is_emailed(interaction),
        "assign_form": AssignForm(initial={"assignee": interaction.assignee_id, "team": interaction.team_id}),
        "priority_form": PriorityForm(initial={"priority": interaction.priority}),
        "audit": interaction_audit_trail(interaction),
    }
    return render(request, "customers/interaction_detail.html", context)


@role_required(Role.AGENT)
def interaction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = get_object_or_404(Interaction.objects.select_related("customer"), pk=pk)
    form = InteractionForm(request.POST or None, instance=interaction)
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_update(
                interaction=Interaction.objects.get(pk=pk), actor=request.user, **form.service_fields()
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Interaction saved.")
            return redirect("customers:interaction", pk=pk)
    return render(request, "customers/interaction_form.html", {"form": form, "interaction": interaction})


@role_required(Role.AGENT)
@require_POST
def interaction_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = get_object_or_404(Interaction, pk=pk)
    try:
        resolved = services.interaction_resolve(interaction=interaction, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        invitations = list(getattr(resolved, "survey_invitations", []))
        if invitations:
            surveys = ", ".join(f"“{invitation.survey.name}”" for invitation in invitations)
            messages.success(
                request,
                _("Interaction resolved. The survey %(surveys)s was emailed to %(customer)s.")
                % {"surveys": surveys, "customer": interaction.customer.name},
            )
        else:
            messages.success(request, _("Interaction resolved. No survey was sent."))
    return redirect("customers:interaction", pk=pk)


@role_required(Role.AGENT)
@require_POST
def interaction_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = get_object_or_404(Interaction, pk=pk)
    services.interaction_reopen(interaction=interaction, actor=request.user)
    messages.success(request, "Interaction reopened.")
    return redirect("customers:interaction", pk=pk)


@role_required(Role.MANAGER)
def customer_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    """The data-protection page: export a copy (a JSON download) or erase, each after a confirmation."""
    customer = get_object_or_404(Customer, pk=pk)
    erase_form = ErasureForm(customer, request.POST or None) if request.POST.get("action") == "erase" else None
    if request.method == "POST" and request.POST.get("action") == "export":
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm that the customer asked for a copy of their data.")
            return redirect("customers:privacy", pk=customer.pk)
        data = customer_export(customer=customer, actor=request.user)
        response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
                                content_type="application/json; charset=utf-8")  # fmt: skip
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
        return response
    if erase_form is not None and erase_form.is_valid():
        customer_erase(customer=customer, actor=request.user)
        messages.success(request, "The customer's personal data was erased; their anonymous figures are kept.")
        return redirect("customers:detail", pk=customer.pk)
    context = {
        "customer": customer,
        "erase_form": erase_form or ErasureForm(customer),
        "actions": customer.privacy_actions.select_related("performed_by")[:20],
    }
    return render(request, "customers/customer_privacy.html", context, status=400 if erase_form else 200)
