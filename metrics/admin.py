"""Admin for computed metrics: read-only views of the rows, runs with their chunks, and a button that
starts a full recompute (the admin list shows its progress)."""

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse

from metrics.models import (
    CohortCell,
    CustomerMetrics,
    LifespanCell,
    RecomputeChunk,
    RecomputeFailure,
    RecomputeRun,
    RecomputeSegment,
    SegmentSnapshot,
    StaleCustomer,
)
from metrics.services import start_full_recompute


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the engine: viewable, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CustomerMetrics)
class CustomerMetricsAdmin(ReadOnlyAdmin):
    list_display = ["customer", "health_score", "churn_risk", "rfm_segment", "orders", "revenue", "computed_at"]
    list_filter = ["churn_risk", "rfm_segment"]
    search_fields = ["customer__name", "customer__email", "customer__external_id"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]


@admin.register(SegmentSnapshot)
class SegmentSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["segment", "period", "period_start", "member_count", "customers_start", "customers_end", "orders"]
    list_filter = ["period", "segment"]
    date_hierarchy = "period_start"
    list_select_related = ["segment"]


@admin.register(CohortCell)
class CohortCellAdmin(ReadOnlyAdmin):
    list_display = ["segment", "cohort_month", "months_since", "cohort_size", "active"]
    list_filter = ["segment"]
    list_select_related = ["segment"]


@admin.register(LifespanCell)
class LifespanCellAdmin(ReadOnlyAdmin):
    list_display = ["segment", "acquired_month", "churned_month", "customers", "computed_at"]
    list_filter = ["segment"]
    list_select_related = ["segment"]


@admin.register(StaleCustomer)
class StaleCustomerAdmin(ReadOnlyAdmin):
    list_display = ["customer", "marked_at"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]


@admin.register(RecomputeFailure)
class RecomputeFailureAdmin(ReadOnlyAdmin):
    """Customers set aside because their figures could not be computed; the sweep retries them."""

    list_display = ["customer", "attempts", "last_failed_at", "retry_after", "run", "error"]
    search_fields = ["customer__external_id", "error"]
    list_select_related = ["customer", "run"]
    raw_id_fields = ["customer"]


class RecomputeFailureInline(admin.TabularInline):
    model = RecomputeFailure
    fields = ["customer", "attempts", "error", "retry_after"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RecomputeChunkInline(admin.TabularInline):
    model = RecomputeChunk
    fields = ["index", "first_customer_id", "last_customer_id", "done_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RecomputeSegmentInline(admin.TabularInline):
    model = RecomputeSegment
    fields = ["segment", "done_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "progress", "total_customers", "started_by", "started_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [
        "status",
        "total_customers",
        "total_chunks",
        "chunks_done",
        "segments_total",
        "segments_done",
        "customers_failed",
        "progressed_at",
        "watchdog_attempts",
        "started_by",
        "started_at",
        "finished_at",
        "error",
        "rfm_breakpoints",
    ]
    inlines = [RecomputeFailureInline, RecomputeChunkInline, RecomputeSegmentInline]
    list_select_related = ["started_by"]

    @admin.display(description="Progress")
    def progress(self, run: RecomputeRun) -> str:
        failed = f", {run.customers_failed} customers failed" if run.customers_failed else ""
        return f"{run.progress_percent} % ({run.chunks_done}/{run.total_chunks} chunks{failed})"

    def get_urls(self) -> list:
        urls = [
            path(
                "start/",
                self.admin_site.admin_view(self.start_view),
                name="metrics_recomputerun_start",
            )
        ]
        return urls + super().get_urls()

    def start_view(self, request: HttpRequest) -> HttpResponse:
        changelist = reverse("admin:metrics_recomputerun_changelist")
        if request.method != "POST" or not request.user.has_perm("metrics.view_recomputerun"):
            return HttpResponseRedirect(changelist)
        run = start_full_recompute(started_by=request.user)
        self.message_user(request, f"Recompute {run.pk} is running; refresh this page to follow it.", messages.SUCCESS)
        return HttpResponseRedirect(changelist)
