"""Manager report pages: overview, segment reports, comparison, segment management, CSV exports, recompute."""

import re
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from core.calendar import Group, MonthRange, period_presets
from customers.filters import CustomerFilter, customer_filter
from customers.models import Segment
from customers.roles import Role, role_required
from customers.selectors import customer_sheet_rows
from customers.sheet import SHEET_COLUMNS
from metrics import reports
from metrics import segments as segment_services
from metrics.drilldowns import customers_url
from metrics.exports import csv_filename, csv_response, csv_streaming_response
from metrics.forms import MembersAddForm, PeriodForm, SegmentForm
from metrics.predictive_report import predictive_summary
from metrics.presenters import Table
from metrics.report_selectors import ALL_CUSTOMERS_SLUG, freshness_of, latest_run, run_is_active, run_is_dead

manager_required = role_required(Role.MANAGER)
# What the <slug:…> URL converter accepts: anything else cannot name a segment page.
SLUG = re.compile(r"[-a-zA-Z0-9_]+")
TEXT_PLAIN = "text/plain; charset=utf-8"


def _period(request: HttpRequest, grouping: bool = True) -> tuple[PeriodForm, MonthRange, str]:
    form = PeriodForm(request.GET if {"from", "to", "group"} & set(request.GET) else None, grouping=grouping)
    months, group = form.period()
    return form, months, group


def _presets(request: HttpRequest, months: MonthRange, group: str) -> list[tuple[str, str, bool]]:
    """(label, query string, current) for the period shortcuts; other parameters (segments) are kept."""
    skip = {"from", "to", "group", "format", "table"}
    kept = [(key, value) for key, values in request.GET.lists() if key not in skip for value in values]
    out = []
    for label, preset, preset_group in period_presets():
        query = urlencode([*kept, *preset.query().items(), ("group", preset_group)])
        out.append((label, query, preset == months and preset_group == group))
    return out


def _run_context() -> dict[str, Any]:
    run = latest_run()
    return {"run": run, "run_active": run_is_active(run), "run_dead": run_is_dead(run)}


def _export_table(table: Table, *name_parts: str) -> HttpResponse:
    return csv_response(csv_filename(*name_parts, table.key), table.headers, table.csv_rows())


def _render_report(request: HttpRequest, segment: Segment, table: str | None = None) -> HttpResponse:
    form, months, group = _period(request)
    report = reports.segment_report(segment=segment, months=months, group=group)
    if table is None and request.GET.get("format") == "csv":
        table = request.GET.get("table") or "kpis"
    if table:
        if form.is_bound and not form.is_valid():
            # A download never silently falls back to another period than the one asked for.
            return HttpResponseBadRequest(f"Invalid period: {form.error_text()}", content_type=TEXT_PLAIN)
        if table not in report.tables:
            raise Http404("No such table.")
        return _export_table(report.tables[table], segment.slug, f"{months.first:%Y-%m}", f"{months.last:%Y-%m}")
    query = {**months.query(), "group": group}
    for key, each in report.tables.items():
        each.export_url = f"{reverse('metrics:segment_export', args=[segment.slug, key])}?{urlencode(query)}"
    context = {
        "report": report,
        "segment": segment,
        "form": form,
        "period_query": urlencode(query),
        "presets": _presets(request, months, group),
        "segments": list(Segment.objects.only("name", "slug")),
        "charts": [(chart, report.tables[chart["id"]]) for chart in report.charts],
        "time_zone": settings.TIME_ZONE,
        "predictive": predictive_summary(segment),
        **_run_context(),
    }
    return render(request, "metrics/report_segment.html", context)


@manager_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return _render_report(request, get_object_or_404(Segment, slug=ALL_CUSTOMERS_SLUG))


@manager_required
@require_GET
def segment_report(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_report(request, get_object_or_404(Segment, slug=slug))


@manager_required
@require_GET
def segment_export(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    return _render_report(request, get_object_or_404(Segment, slug=slug), table=table)


@manager_required
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    form, months, _group = _period(request, grouping=False)
    slugs = list(dict.fromkeys(s for s in request.GET.getlist("segments") if s))
    # Only well-formed slugs reach the database (a NUL byte is not even a valid PostgreSQL string).
    chosen = {s.slug: s for s in Segment.objects.filter(slug__in=[s for s in slugs if SLUG.fullmatch(s)])}
    unknown = [s for s in slugs if s not in chosen]
    selected = [chosen[s] for s in slugs if s in chosen]
    context: dict[str, Any] = {
        "form": form,
        "all_segments": list(Segment.objects.only("name", "slug")),
        "selected_slugs": [s.slug for s in selected],
        "unknown": unknown,
        "period_query": urlencode(months.query()),
        "presets": [p for p in _presets(request, months, Group.MONTH) if "quarter" not in p[0]],
        "time_zone": settings.TIME_ZONE,
    }
    if len(selected) < 2 or len(selected) > reports.MAX_COMPARED:
        context["error"] = f"Choose from two to {reports.MAX_COMPARED} segments to compare."
        return render(request, "metrics/report_compare.html", context, status=400 if slugs else 200)
    if request.GET.get("format") == "csv" and form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(f"Invalid period: {form.error_text()}", content_type=TEXT_PLAIN)
    result = reports.comparison(segments=selected, months=months)
    if request.GET.get("format") == "csv":
        return _export_table(result.table, "comparison", f"{months.first:%Y-%m}", f"{months.last:%Y-%m}")
    segments_query = urlencode([("segments", s.slug) for s in selected])
    result.table.export_url = f"{reverse('metrics:compare')}?{segments_query}&{urlencode(months.query())}&format=csv"
    context.update(
        comparison=result,
        charts=[(result.chart, result.table), (result.trend_chart, None)],
        segments_query=segments_query,
    )
    return render(request, "metrics/report_compare.html", context)


# Segments ---------------------------------------------------------------------------------


@manager_required
@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    if request.GET.get("slug"):
        # The segment picker of a report page, without JavaScript.
        slug = request.GET["slug"]
        if not SLUG.fullmatch(slug):
            raise Http404("No segment has this name.")
        return redirect("metrics:segment", slug=slug)
    page = Paginator(reports.segments_for_list(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "metrics/segment_list.html",
        {"page": page, "freshness": freshness_of(), **_run_context()},
    )


def _filter_form(data: Any) -> CustomerFilter:
    return customer_filter(data)


def _preview_count(params: dict[str, str], kind: str) -> tuple[int | None, list[str]]:
    try:
        filterset = segment_services.validate_filter(params, kind)
    except ValidationError as error:
        return None, [f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()]
    return filterset.qs.count(), []


@manager_required
@require_http_methods(["GET", "POST"])
def segment_create(request: HttpRequest) -> HttpResponse:
    """/reports/segments/new/?<customer filter>: the filter comes from the customer list's query string."""
    source = request.POST if request.method == "POST" else request.GET
    params = segment_services.filter_params_from(source)
    if request.method == "POST" and "preview" in request.POST:
        form = SegmentForm(initial=request.POST.dict())
    elif request.method == "POST":
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                segment = segment_services.segment_create(
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    kind=form.cleaned_data["kind"],
                    filter_params=params,
                    created_by=request.user,
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request, f"Segment “{segment.name}” saved. Its figures appear after the next recompute."
                )
                return redirect("metrics:segment", slug=segment.slug)
    else:
        form = SegmentForm(initial={"kind": source.get("kind") or Segment.Kind.DYNAMIC, "name": source.get("name", "")})
    kind = (form.data.get("kind") if form.is_bound else form.initial.get("kind")) or Segment.Kind.DYNAMIC
    count, filter_errors = _preview_count(params, kind)
    return render(
        request,
        "metrics/segment_form.html",
        {
            "form": form,
            "filter": _filter_form(params),
            "params": params,
            "preview_count": count,
            "filter_errors": filter_errors,
            "customers_link": f"{reverse('customers:list')}?{urlencode(params)}",
            "creating": True,
        },
    )


def _editable_segment(slug: str) -> Segment:
    segment = get_object_or_404(Segment, slug=slug)
    if segment.is_builtin:
        raise PermissionDenied("Built-in segments cannot be changed.")
    return segment


@manager_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, slug: str) -> HttpResponse:
    segment = _editable_segment(slug)
    dynamic = segment.kind == Segment.Kind.DYNAMIC
    if request.method == "POST" and "preview" in request.POST:
        params = segment_services.filter_params_from(request.POST)
        form = SegmentForm(initial=request.POST.dict(), instance=segment)
    elif request.method == "POST":
        params = segment_services.filter_params_from(request.POST)
        form = SegmentForm(request.POST, instance=segment)
        if form.is_valid():
            try:
                segment_services.segment_update(
                    segment=segment,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    filter_params=params if dynamic else None,
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, f"Segment “{segment.name}” saved.")
                return redirect("metrics:segment", slug=segment.slug)
    else:
        params = dict(segment.filter_params or {}) if dynamic else {}
        form = SegmentForm(instance=segment)
    count, filter_errors = _preview_count(params, segment.kind) if dynamic else (None, [])
    return render(
        request,
        "metrics/segment_form.html",
        {
            "form": form,
            "segment": segment,
            "filter": _filter_form(params) if dynamic else None,
            "params": params,
            "preview_count": count,
            "filter_errors": filter_errors,
            "customers_link": f"{reverse('customers:list')}?{urlencode(params)}",
            "creating": False,
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def segment_delete(request: HttpRequest, slug: str) -> HttpResponse:
    segment = _editable_segment(slug)
    if request.method == "POST":
        name = segment.name
        segment_services.segment_delete(segment=segment)
        messages.success(request, f"Segment “{name}” deleted.")
        return redirect("metrics:segments")
    return render(request, "metrics/segment_confirm_delete.html", {"segment": segment})


@manager_required
@require_http_methods(["GET", "POST"])
def segment_members(request: HttpRequest, slug: str) -> HttpResponse:
    """A static segment's member list: paginated, add by external id, remove."""
    segment = get_object_or_404(Segment, slug=slug)
    if segment.kind != Segment.Kind.STATIC:
        messages.info(request, "This segment is dynamic: its members are the customers its filter matches.")
        return redirect(customers_url(segment))
    form = MembersAddForm()
    if request.method == "POST":
        if segment.is_builtin:
            raise PermissionDenied("Built-in segments cannot be changed.")
        if request.POST.get("action") == "remove":
            ids = [int(i) for i in request.POST.getlist("customer") if i.isdigit()]
            removed = segment_services.segment_members_remove(segment=segment, customer_ids=ids)
            messages.success(request, f"Removed {removed} customer{'s' if removed != 1 else ''}.")
            return redirect(f"{reverse('metrics:segment_members', args=[slug])}?{request.GET.urlencode()}")
        form = MembersAddForm(request.POST)
        if form.is_valid():
            result = segment_services.segment_members_add(
                segment=segment, external_ids=form.cleaned_data["external_ids"]
            )
            messages.success(
                request,
                f"Added {result.added} customer{'s' if result.added != 1 else ''}"
                + (f"; {result.already} already in the segment" if result.already else "")
                + ".",
            )
            if result.unknown:
                messages.error(request, "No customer has these external ids: " + ", ".join(result.unknown[:50]))
            return redirect("metrics:segment_members", slug=slug)
    q = request.GET.get("q", "").strip()
    members = segment.members.order_by("name", "id").only("id", "name", "external_id", "email", "country")
    if q:
        members = customer_filter({"q": q}, queryset=members).qs
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    return render(request, "metrics/segment_members.html", {"segment": segment, "page": page, "form": form, "q": q})


# Exports ----------------------------------------------------------------------------------

# The customer's own columns are the spreadsheet the import reads back (customers.sheet); the computed
# figures after them are ignored by the import.
CUSTOMER_COLUMNS = [
    *SHEET_COLUMNS,
    ("Latest NPS", "metrics__latest_nps_score"),
    ("Orders", "metrics__orders"),
    ("Revenue", "metrics__revenue"),
    ("CLV", "metrics__clv"),
    ("RFM segment", "metrics__rfm_segment"),
    ("Health score", "metrics__health_score"),
    ("Churn risk", "metrics__churn_risk"),
]


@manager_required
@require_GET
def customers_csv(request: HttpRequest) -> HttpResponse:
    """/reports/customers.csv?<CustomerFilter params>: the customer list as filtered, streamed."""
    filterset = customer_filter(request.GET)
    if not filterset.is_valid():
        return HttpResponseBadRequest(
            "Invalid filter: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()),
            content_type="text/plain; charset=utf-8",
        )
    rows = customer_sheet_rows(filterset.qs, [field for _, field in CUSTOMER_COLUMNS[len(SHEET_COLUMNS) :]])
    name = request.GET.get("segment") or "customers"
    return csv_streaming_response(csv_filename(name), [label for label, _ in CUSTOMER_COLUMNS], rows)
