"""How the customers admin writes each model: through customers.services, record_services and
segments, with the admin user as the actor of the audit trail."""

from typing import Any

from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from customers import record_services, segments, services
from customers.admin_base import Writes, form_values
from customers.models import Customer, Interaction, InteractionReply, Order, Referral, Segment


def _tag_names(values: dict[str, Any]) -> list[str] | None:
    tags = values.pop("tags", None)
    return None if tags is None else [tag.name for tag in tags]


def _customer_create(request: HttpRequest, form: ModelForm, parent: Model | None) -> Customer:
    values = form_values(form, {*services.CUSTOMER_FIELDS, "tags"})
    tags = _tag_names(values)
    return services.customer_create(actor=request.user, tags=tags, **values)


def _customer_update(request: HttpRequest, stored: Customer, changed: dict[str, Any], form: ModelForm) -> Customer:
    values = {k: v for k, v in changed.items() if k in {*services.CUSTOMER_FIELDS, "tags"}}
    tags = _tag_names(values)
    return services.customer_update(customer=stored, actor=request.user, tags=tags, **values)


CUSTOMER = Writes(
    create=_customer_create,
    update=_customer_update,
    delete=lambda request, obj: services.customer_delete(customer=obj, actor=request.user),
)

# Status and resolution go through interaction_set_status (which may send the CSAT survey).
_STATUS_FIELDS = {"status", "resolved_at"}


def _interaction_create(request: HttpRequest, form: ModelForm, parent: Model | None) -> Interaction:
    values = form_values(form, services.INTERACTION_FIELDS | _STATUS_FIELDS)
    status = values.pop("status", Interaction.Status.OPEN)
    resolved_at = values.pop("resolved_at", None)
    if parent is not None:
        values["customer"] = parent
    values.setdefault("staff", None)
    interaction = services.interaction_create(actor=request.user, **values)
    if status != Interaction.Status.OPEN:
        interaction = services.interaction_set_status(
            interaction=interaction, status=status, actor=request.user, resolved_at=resolved_at
        )
    return interaction


def _interaction_update(
    request: HttpRequest, stored: Interaction, changed: dict[str, Any], form: ModelForm
) -> Interaction:
    status = changed.pop("status", None)
    resolved_at = changed.pop("resolved_at", None)
    values = {k: v for k, v in changed.items() if k in services.INTERACTION_FIELDS}
    interaction = services.interaction_update(interaction=stored, actor=request.user, **values)
    if status is not None or resolved_at is not None:
        interaction = services.interaction_set_status(
            interaction=interaction, status=status or interaction.status, actor=request.user, resolved_at=resolved_at
        )
    return interaction


INTERACTION = Writes(
    create=_interaction_create,
    update=_interaction_update,
    delete=lambda request, obj: services.interaction_delete(interaction=obj, actor=request.user),
)


def _reply_create(request: HttpRequest, form: ModelForm, parent: Model | None) -> InteractionReply:
    interaction = parent if parent is not None else form.cleaned_data["interaction"]
    return services.interaction_reply(interaction=interaction, author=request.user, body=form.cleaned_data["body"])


REPLY = Writes(
    create=_reply_create,
    update=lambda request, stored, changed, form: record_services.reply_update(
        reply=stored, **{k: v for k, v in changed.items() if k in record_services.REPLY_FIELDS}
    ),
    delete=lambda request, obj: record_services.reply_delete(reply=obj),
)


def _order_create(request: HttpRequest, form: ModelForm, parent: Model | None) -> Order:
    values = form_values(form, services.ORDER_FIELDS)
    if parent is not None:
        values["customer"] = parent
    return services.order_create(**values)


ORDER = Writes(
    create=_order_create,
    update=lambda request, stored, changed, form: services.order_update(
        order=stored, **{k: v for k, v in changed.items() if k in services.ORDER_FIELDS}
    ),
    delete=lambda request, obj: services.order_delete(order=obj),
)

EVENT = Writes(
    create=lambda request, form, parent: services.event_create(**form_values(form, services.EVENT_FIELDS)),
    update=lambda request, stored, changed, form: services.event_update(
        event=stored, **{k: v for k, v in changed.items() if k in services.EVENT_FIELDS}
    ),
    delete=lambda request, obj: services.event_delete(event=obj),
)


def _referral_create(request: HttpRequest, form: ModelForm, parent: Model | None) -> Referral:
    values = form_values(form, record_services.REFERRAL_FIELDS)
    values["referred_name"] = values.get("referred_name") or ""
    values["referred_email"] = values.get("referred_email") or ""
    return services.referral_create(**values)


REFERRAL = Writes(
    create=_referral_create,
    update=lambda request, stored, changed, form: record_services.referral_update(
        referral=stored, **{k: v for k, v in changed.items() if k in record_services.REFERRAL_FIELDS}
    ),
    delete=lambda request, obj: record_services.referral_delete(referral=obj),
)

_SEGMENT_FIELDS = {"name", "slug", "description", "kind", "filter_params", "members"}


def _segment_create(request: HttpRequest, form: ModelForm, parent: Model | None) -> Segment:
    values = form_values(form, _SEGMENT_FIELDS)
    return segments.segment_create(created_by=request.user, **values)


SEGMENT = Writes(
    create=_segment_create,
    update=lambda request, stored, changed, form: segments.segment_update(
        segment=stored, **{k: v for k, v in changed.items() if k in _SEGMENT_FIELDS}
    ),
    delete=lambda request, obj: segments.segment_delete(segment=obj),
)
