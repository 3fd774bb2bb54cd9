"""Segment writes live in customers.segments (segments are the customers app's model); the report
pages keep importing them from here."""

from customers.segments import (
    NON_FILTER_PARAMS,
    MembersAdded,
    filter_params_from,
    segment_create,
    segment_delete,
    segment_members_add,
    segment_members_remove,
    segment_update,
    validate_filter,
)

__all__ = [
    "NON_FILTER_PARAMS",
    "MembersAdded",
    "filter_params_from",
    "segment_create",
    "segment_delete",
    "segment_members_add",
    "segment_members_remove",
    "segment_update",
    "validate_filter",
]
