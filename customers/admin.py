"""Django admin for the customers app. Built to stay fast with a million customers: foreign keys are
raw-id or autocomplete widgets (never a <select> of every customer), change lists skip the full
count, and the inlines on a customer show only its latest rows.

Every save and delete goes through the services (customers.admin_base, customers.admin_writes): the
audit trail names the admin, figures are marked stale, the built-in segment cannot be changed or
deleted, and owners and handlers are limited to users with a role. Tags are the one exception:
plain rows without figures or history.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from customers import admin_writes
from customers.admin_base import ServiceModelAdmin, ServiceWritesMixin
from customers.forms import CustomerAdminForm
from customers.models import (
    Customer,
    EngagementEvent,
    ExchangeRate,
    Interaction,
    InteractionReply,
    Order,
    Referral,
    Segment,
    Tag,
)
from customers.segments import is_builtin

INLINE_LATEST = 20


class LatestInlineFormSet(BaseInlineFormSet):
    """Only the parent's latest INLINE_LATEST rows (a customer may have thousands).

    A formset cannot work on a sliced queryset, so the slice becomes `id IN (subquery ... LIMIT n)`.
    """

    date_field = "id"

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "_queryset"):
            ordering = [f"-{self.date_field}", "-id"]
            latest = self.queryset.order_by(*ordering).values("id")[:INLINE_LATEST]
            self._queryset = self.queryset.filter(id__in=latest).order_by(*ordering)
        return self._queryset


def latest_formset(date_field: str) -> type[BaseInlineFormSet]:
    return type(f"Latest{date_field.title()}FormSet", (LatestInlineFormSet,), {"date_field": date_field})


class CustomerExternalIdSearchMixin:
    """A search term that is a customer's external id lists that customer's rows.

    It filters on customer_id (an index lookup) instead of OR-ing a join to customers into the
    search, which makes PostgreSQL hash-join the whole table (200 ms on 600k orders).
    """

    customer_field = "customer"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        customer_id = Customer.objects.filter(external_id=term).values_list("id", flat=True).first() if term else None
        if customer_id is not None:
            return queryset.filter(**{f"{self.customer_field}_id": customer_id}), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


class InteractionInline(admin.TabularInline):
    model = Interaction
    formset = latest_formset("opened_at")
    fields = ["opened_at", "subject", "channel", "kind", "status", "staff"]
    readonly_fields = ["status"]
    autocomplete_fields = ["staff"]
    show_change_link = True
    extra = 0
    verbose_name_plural = f"interactions (latest {INLINE_LATEST}; open one for its replies)"


class OrderInline(admin.TabularInline):
    model = Order
    fk_name = "customer"
    formset = latest_formset("ordered_at")
    fields = ["ordered_at", "amount", "currency", "external_id", "referred_by"]
    raw_id_fields = ["referred_by"]
    extra = 0
    verbose_name_plural = f"orders (latest {INLINE_LATEST})"


@admin.register(Customer)
class CustomerAdmin(ServiceWritesMixin, SimpleHistoryAdmin):
    writes = admin_writes.CUSTOMER
    inline_writes = {Interaction: admin_writes.INTERACTION, Order: admin_writes.ORDER}
    form = CustomerAdminForm  # the stage follows the churn date (customers.lifecycle)

    list_display = [
        "name",
        "external_id",
        "email",
        "company",
        "country",
        "lifecycle_stage",
        "plan",
        "owner",
        "acquired_at",
    ]
    list_filter = ["lifecycle_stage", "plan", "language", "consent_email", "consent_sms"]
    # "=" keeps the external id lookup on its unique index; the others use the trigram indexes.
    search_fields = ["=external_id", "name", "email", "phone"]
    search_help_text = "Name, email or phone (any part), or the exact external id."
    list_select_related = ["owner"]
    # COUNT(*) of a million rows on every page view is what makes an admin slow.
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ["owner", "tags"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [InteractionInline, OrderInline]
    fieldsets = [
        (None, {"fields": ["external_id", "name", "first_name", "company", "owner", "tags"]}),
        ("Contact", {"fields": ["email", "phone", "country", "city", "language", "consent_email", "consent_sms"]}),
        ("Lifecycle", {"fields": ["lifecycle_stage", "plan", "acquired_at", "churned_at"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]


class InteractionReplyInline(admin.StackedInline):
    model = InteractionReply
    # A reply's time and author are facts (the first one set the first response): a new reply is
    # the admin's, now.
    fields = ["created_at", "author", "body"]
    readonly_fields = ["created_at", "author"]
    extra = 0


@admin.register(Interaction)
class InteractionAdmin(CustomerExternalIdSearchMixin, ServiceWritesMixin, SimpleHistoryAdmin):
    writes = admin_writes.INTERACTION
    inline_writes = {InteractionReply: admin_writes.REPLY}

    list_display = ["subject", "customer", "channel", "kind", "direction", "status", "staff", "opened_at"]
    list_filter = ["status", "channel", "kind", "direction"]
    search_fields = ["subject"]
    search_help_text = "Subject (any part) or the customer's exact external id."
    list_select_related = ["customer", "staff"]
    raw_id_fields = ["customer"]
    autocomplete_fields = ["staff"]
    show_full_result_count = False
    readonly_fields = ["created_at", "updated_at"]
    inlines = [InteractionReplyInline]


@admin.register(InteractionReply)
class InteractionReplyAdmin(ServiceModelAdmin):
    writes = admin_writes.REPLY
    list_display = ["interaction", "author", "created_at"]
    search_fields = ["body", "interaction__subject"]
    list_select_related = ["interaction", "author"]
    raw_id_fields = ["interaction"]
    fields = ["interaction", "author", "created_at", "body"]
    readonly_fields = ["author", "created_at"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A reply stays in its interaction.
        return [*self.readonly_fields, "interaction"] if obj is not None else list(self.readonly_fields)


@admin.register(Order)
class OrderAdmin(CustomerExternalIdSearchMixin, ServiceModelAdmin):
    writes = admin_writes.ORDER
    list_display = ["id", "customer", "amount", "currency", "amount_base", "ordered_at", "external_id", "referred_by"]
    # Set by the order services at the rate of the order's day (customers.money).
    readonly_fields = ["amount_base", "exchange_rate"]
    # A filter on currency would run SELECT DISTINCT over every order on each page view.
    list_filter = [("referred_by", admin.EmptyFieldListFilter)]
    search_fields = ["external_id__exact"]
    search_help_text = "Exact order or customer external id."
    list_select_related = ["customer", "referred_by"]
    raw_id_fields = ["customer", "referred_by"]
    show_full_result_count = False


@admin.register(EngagementEvent)
class EngagementEventAdmin(CustomerExternalIdSearchMixin, ServiceModelAdmin):
    writes = admin_writes.EVENT
    list_display = ["kind", "customer", "campaign", "occurred_at", "duration_seconds", "pages"]
    list_filter = ["kind"]
    search_fields = ["campaign", "external_id__exact"]
    search_help_text = "Campaign (any part), or the exact customer or event external id."
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(Referral)
class ReferralAdmin(CustomerExternalIdSearchMixin, ServiceModelAdmin):
    writes = admin_writes.REFERRAL
    list_display = ["referrer", "referred_name", "referred_email", "converted_customer", "created_at"]
    list_filter = [("converted_customer", admin.EmptyFieldListFilter)]
    customer_field = "referrer"
    search_fields = ["referred_name", "referred_email"]
    search_help_text = "Referred name or email (any part), or the referrer's exact external id."
    list_select_related = ["referrer", "converted_customer"]
    raw_id_fields = ["referrer", "converted_customer"]
    show_full_result_count = False


@admin.register(Segment)
class SegmentAdmin(ServiceModelAdmin):
    writes = admin_writes.SEGMENT
    list_display = ["name", "slug", "kind", "is_builtin", "created_by", "updated_at"]
    list_filter = ["kind", "is_builtin"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["created_by"]
    # Static segments may hold many thousands of members.
    raw_id_fields = ["members"]
    readonly_fields = ["is_builtin", "created_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Segment | None = None) -> list[str]:
        # A segment's kind cannot change (customers.segments.segment_update).
        return [*self.readonly_fields, "kind"] if obj is not None else list(self.readonly_fields)

    def has_change_permission(self, request: HttpRequest, obj: Segment | None = None) -> bool:
        return super().has_change_permission(request, obj) and not (obj is not None and is_builtin(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Segment | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj is not None and is_builtin(obj))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        """ "Delete selected" leaves the built-in segment out (and says so)."""
        builtin = [s for s in queryset if is_builtin(s)]
        if builtin:
            self.message_user(request, f"“{builtin[0]}” is built in and was not deleted.", level="warning")
        super().delete_queryset(request, queryset.exclude(pk__in=[s.pk for s in builtin]))


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Dated rates to the base currency; bulk loads with manage.py import_exchange_rates FILE.csv."""

    list_display = ["currency", "valid_from", "rate", "created_at"]
    list_filter = ["currency"]
    search_fields = ["currency__exact"]
    date_hierarchy = "valid_from"
