"""Writes of segments, the one set of services for the report pages, the API and the admin.

The built-in segment (slug "all-customers", what /reports/ shows) can be neither deleted nor
redefined: every service here refuses it with PermissionDenied (403 on pages and in the API; the
admin does not offer the change or delete). A segment's figures follow at the next recompute:
snapshots freeze membership when computed, so these writes mark no customer stale.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from customers.filters import CustomerFilter, customer_filter
from customers.models import Customer, Segment
from customers.reference_data import ALL_CUSTOMERS_SLUG
from customers.selectors import SEGMENT_FORBIDDEN_PARAMS

# Query parameters of the customer list that are not part of a filter.
NON_FILTER_PARAMS = {"page", "sort", "o", "ordering", "format"}
BUILTIN_MESSAGE = "Built-in segments cannot be edited or deleted."


def is_builtin(segment: Segment) -> bool:
    return segment.is_builtin or segment.slug == ALL_CUSTOMERS_SLUG


def check_editable(segment: Segment) -> None:
    """PermissionDenied for the built-in segment."""
    if segment.pk is not None:
        stored = Segment.objects.filter(pk=segment.pk).values_list("slug", "is_builtin").first()
        if stored and (stored[1] or stored[0] == ALL_CUSTOMERS_SLUG):
            raise PermissionDenied(BUILTIN_MESSAGE)
    if is_builtin(segment):
        raise PermissionDenied(BUILTIN_MESSAGE)


def filter_params_from(data: Mapping) -> dict[str, str]:
    """The non-empty CustomerFilter parameters of a query string or form, as stored in filter_params."""
    params = {}
    for name in CustomerFilter.base_filters:
        value = data.get(name)
        if value is not None and str(value).strip():
            params[name] = str(value).strip()
    return params


def validate_filter(params: dict[str, str], kind: str) -> CustomerFilter:
    """The validated filterset; ValidationError with the filter's messages otherwise."""
    if kind == Segment.Kind.DYNAMIC and SEGMENT_FORBIDDEN_PARAMS.intersection(params):
        raise ValidationError(
            {"segment": "A dynamic segment cannot be based on another segment; save it as a static list instead."}
        )
    filterset = customer_filter(params)
    if not filterset.is_valid():
        raise ValidationError(dict(filterset.errors))
    return filterset


def _unique_slug(name: str, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:90] or "segment"
    taken = set(Segment.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken or slug == ALL_CUSTOMERS_SLUG:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _member_ids(members: Iterable[Customer | int]) -> list[int]:
    return sorted({m.pk if isinstance(m, Customer) else int(m) for m in members})


@transaction.atomic
def segment_create(
    *,
    name: str,
    kind: str = Segment.Kind.DYNAMIC,
    filter_params: dict[str, str] | None = None,
    description: str = "",
    created_by: AbstractBaseUser | None = None,
    slug: str | None = None,
    members: Iterable[Customer | int] | None = None,
) -> Segment:
    """A dynamic segment saves the filter. A static one takes as members the customers the filter
    matches now, plus `members` (customers or ids) when given. The slug is derived from the name
    unless given. Raises ValidationError (invalid filter, taken name or slug) and saves nothing then.
    """
    filter_params = dict(filter_params or {})
    if kind == Segment.Kind.DYNAMIC and members:
        raise ValidationError({"members": "Only static segments have explicit members."})
    filterset = validate_filter(filter_params, kind)
    segment = Segment(
        name=name.strip(),
        slug=slug or _unique_slug(name),
        description=description,
        kind=kind,
        filter_params=filter_params if kind == Segment.Kind.DYNAMIC else {},
        created_by=created_by,
        is_builtin=False,
    )
    if segment.slug == ALL_CUSTOMERS_SLUG:
        raise ValidationError({"slug": "This slug belongs to the built-in segment."})
    segment.full_clean()
    segment.save()
    if kind == Segment.Kind.STATIC:
        ids = set(_member_ids(members or []))
        if filter_params:
            ids.update(filterset.qs.order_by().values_list("id", flat=True))
        segment.members.add(*sorted(ids))
    return segment


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    filter_params: dict[str, str] | None = None,
    slug: str | None = None,
    kind: str | None = None,
    members: Iterable[Customer | int] | None = None,
) -> Segment:
    """Rename, re-describe, replace a dynamic segment's filter or a static segment's members (None
    leaves a value as it is). The kind cannot change (its snapshots would mean something else).

    Raises PermissionDenied for the built-in segment, ValidationError for an invalid result.
    """
    check_editable(segment)
    if kind is not None and kind != segment.kind:
        raise ValidationError({"kind": "A segment's kind cannot change; create a new segment instead."})
    fields = ["updated_at"]
    for field_name, value in (("name", name), ("description", description), ("slug", slug)):
        if value is not None:
            setattr(segment, field_name, value.strip() if field_name == "name" else value)
            fields.append(field_name)
    if segment.slug == ALL_CUSTOMERS_SLUG:
        raise ValidationError({"slug": "This slug belongs to the built-in segment."})
    if filter_params is not None:
        if segment.kind != Segment.Kind.DYNAMIC:
            if filter_params:
                raise ValidationError({"filter_params": "Static segments have members, not a filter."})
        else:
            validate_filter(filter_params, segment.kind)
            segment.filter_params = filter_params
            fields.append("filter_params")
    if members is not None and segment.kind != Segment.Kind.STATIC:
        raise ValidationError({"members": "Only static segments have explicit members."})
    segment.full_clean()
    segment.save(update_fields=fields)
    if members is not None:
        segment.members.set(_member_ids(members))
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Deletes the segment with its snapshots and cohort cells (the customers stay).
    Raises PermissionDenied for the built-in segment."""
    check_editable(segment)
    segment.delete()


@dataclass(frozen=True)
class MembersAdded:
    added: int
    already: int
    unknown: list[str]


@transaction.atomic
def segment_members_add(*, segment: Segment, external_ids: Iterable[str]) -> MembersAdded:
    """Adds customers to a static segment by external id; unknown ids are reported, not fatal."""
    check_editable(segment)
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError("Only static segments have a member list.")
    wanted = list(dict.fromkeys(external_ids))
    found = dict(Customer.objects.filter(external_id__in=wanted).values_list("external_id", "id"))
    present = set(segment.members.filter(id__in=found.values()).values_list("id", flat=True))
    new_ids = [pk for pk in found.values() if pk not in present]
    segment.members.add(*new_ids)
    return MembersAdded(len(new_ids), len(present), [i for i in wanted if i not in found])


@transaction.atomic
def segment_members_remove(*, segment: Segment, customer_ids: Iterable[int]) -> int:
    check_editable(segment)
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError("Only static segments have a member list.")
    ids = list(customer_ids)
    removed = segment.members.filter(id__in=ids).count()
    segment.members.remove(*ids)
    return removed
