"""Writes managers make to segments from the report pages (the built-in segment is read-only).

A segment's figures follow at the next recompute: snapshots freeze membership when computed.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from customers.filters import CustomerFilter, customer_filter
from customers.models import Customer, Segment

# Query parameters of the customer list that are not part of a filter.
NON_FILTER_PARAMS = {"page", "sort", "o", "ordering", "format"}


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
    if kind == Segment.Kind.DYNAMIC and "segment" in params:
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
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_editable(segment: Segment) -> None:
    if segment.is_builtin:
        raise PermissionDenied("Built-in segments cannot be changed.")


@transaction.atomic
def segment_create(
    *, name: str, description: str = "", kind: str, filter_params: dict[str, str], created_by=None
) -> Segment:
    """A dynamic segment saves the filter; a static one takes the customers the filter matches now as members."""
    filterset = validate_filter(filter_params, kind)
    segment = Segment(
        name=name.strip(),
        slug=_unique_slug(name),
        description=description,
        kind=kind,
        filter_params=filter_params if kind == Segment.Kind.DYNAMIC else {},
        created_by=created_by,
    )
    segment.full_clean()
    segment.save()
    if kind == Segment.Kind.STATIC and filter_params:
        segment.members.add(*filterset.qs.order_by().values_list("id", flat=True))
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, name: str, description: str, filter_params: dict[str, str] | None) -> Segment:
    """Rename, re-describe and (dynamic segments) replace the filter. The slug stays, so links keep working."""
    _check_editable(segment)
    segment.name = name.strip()
    segment.description = description
    fields = ["name", "description", "updated_at"]
    if segment.kind == Segment.Kind.DYNAMIC and filter_params is not None:
        validate_filter(filter_params, segment.kind)
        segment.filter_params = filter_params
        fields.append("filter_params")
    segment.full_clean()
    segment.save(update_fields=fields)
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    """Deletes the segment with its snapshots and cohort cells (the customers stay)."""
    _check_editable(segment)
    segment.delete()


@dataclass(frozen=True)
class MembersAdded:
    added: int
    already: int
    unknown: list[str]


@transaction.atomic
def segment_members_add(*, segment: Segment, external_ids: Iterable[str]) -> MembersAdded:
    """Adds customers to a static segment by external id; unknown ids are reported, not fatal."""
    _check_editable(segment)
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
    _check_editable(segment)
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError("Only static segments have a member list.")
    ids = list(customer_ids)
    removed = segment.members.filter(id__in=ids).count()
    segment.members.remove(*ids)
    return removed
