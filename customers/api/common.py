"""Building blocks every API viewset shares: role permissions, pagination, throttles, error shapes.

Reads and writes follow the roles (customers.roles): a viewset names the role it needs to read,
to write and to delete; users without a role get 403, anonymous requests 401.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.openapi import AutoSchema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ParseError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from customers.roles import IsAdmin, IsAgent, IsManager, Role

ROLE_PERMISSIONS: dict[Role, type[BasePermission]] = {Role.AGENT: IsAgent, Role.MANAGER: IsManager, Role.ADMIN: IsAdmin}

# Used when settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] has no "bulk" entry.
DEFAULT_BULK_RATE = "120/hour"


class RolePermissionsMixin:
    """Picks the permission from the HTTP method: reading, writing (POST/PUT/PATCH) or deleting."""

    read_role: Role = Role.AGENT
    write_role: Role = Role.AGENT
    delete_role: Role = Role.ADMIN

    def get_permissions(self) -> list[BasePermission]:
        method = self.request.method if getattr(self, "request", None) is not None else "GET"
        if method in SAFE_METHODS:
            role = self.read_role
        elif method == "DELETE":
            role = self.delete_role
        else:
            role = self.write_role
        return [ROLE_PERMISSIONS[role]()]


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class NewestFirstCursorPagination(CursorPagination):
    """Stable paging through large, append-mostly tables (engagement events) without COUNT(*)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-occurred_at", "-id")


class BulkIngestThrottle(ScopedRateThrottle):
    """A stricter per-user rate for bulk endpoints (scope "bulk"), on top of the user rate."""

    scope_attr = "throttle_scope"

    def get_rate(self) -> str | None:
        return self.THROTTLE_RATES.get(self.scope, DEFAULT_BULK_RATE)


class ErrorSerializer(serializers.Serializer):
    """Every error answer is an object: `detail` for request-level errors, field names for validation errors."""

    detail = serializers.CharField(required=False)


class RapportAutoSchema(AutoSchema):
    """Documents the error answers every endpoint can give, so clients (and schema checks) know them."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction=direction)
        errors = {
            "400": "Invalid parameters or body; the answer names the fields.",
            "401": "Not authenticated.",
            "403": "The user's role does not allow this.",
            "404": "Not found (or an invalid page or cursor).",
            "429": "Too many requests; retry after the Retry-After header.",
        }
        method = self.method.upper()
        if method == "DELETE":
            errors["409"] = "The record is still referenced by other records."
        for code, description in errors.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code)
                response["description"] = description
                responses[code] = response
        return responses


class BoundedDateTimeField(serializers.DateTimeField):
    """A datetime between 1900 and 2999, written with an offset RFC 3339 can express.

    Before standard time zones, local mean time had offsets with seconds (Bangkok: +06:42:04), which
    no JSON client parses; such values are given in UTC instead.
    """

    default_error_messages = {"out_of_range": "Give a date and time between 1900 and 2999."}

    def to_internal_value(self, value: Any) -> datetime:
        try:
            result = super().to_internal_value(value)
        except OverflowError:
            self.fail("out_of_range")
        if not 1900 <= result.year <= 2999:
            self.fail("out_of_range")
        return result

    def to_representation(self, value: Any) -> str | None:
        if isinstance(value, datetime) and value.tzinfo is not None:
            local = self.enforce_timezone(value)
            offset = local.utcoffset()
            if offset is not None and offset.seconds % 60:
                return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return super().to_representation(value)


class NoNulSlugRelatedField(serializers.SlugRelatedField):
    """PostgreSQL cannot even look up text with NUL bytes: refuse it before the query."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class ApiModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: BoundedDateTimeField,
    }


def drf_validation_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """The model's validation errors as a 400 answer, keyed by field like the serializers' own."""
    errors = serializers.as_serializer_error(exc)
    if NON_FIELD_ERRORS in errors:
        errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
    return serializers.ValidationError(errors)


@contextmanager
def service_errors_as_400() -> Iterator[None]:
    """Services validate too (full_clean); a rule they check that the serializer did not is a 400, not a 500."""
    try:
        yield
    except DjangoValidationError as exc:
        raise drf_validation_error(exc) from exc


class FullCleanMixin:
    """Runs the model's own validation after DRF's: field validators, clean() and check constraints,
    so the API accepts exactly what the pages' forms accept. Relations are validated by DRF already."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)  # type: ignore[misc]
        model: type[models.Model] = self.Meta.model  # type: ignore[attr-defined]
        candidate = copy(self.instance) if self.instance is not None else model()  # type: ignore[attr-defined]
        m2m = {f.name for f in model._meta.many_to_many}
        for name, value in attrs.items():
            if name not in m2m:
                setattr(candidate, name, value)
        writable = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
        exclude = [
            f.name for f in model._meta.concrete_fields if f.name not in writable or f.is_relation or f.primary_key
        ]
        try:
            candidate.full_clean(exclude=exclude, validate_unique=False)
        except DjangoValidationError as exc:
            raise drf_validation_error(exc) from exc
        return attrs


class ApiViewSet(RolePermissionsMixin, viewsets.GenericViewSet):
    """Base of every Rapport API viewset."""

    schema = RapportAutoSchema()
    pagination_class = StandardPagination

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # PostgreSQL refuses NUL bytes even in a lookup; say so instead of failing in the filter's query.
        for key, values in request.query_params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise ParseError("Query parameters may not contain NUL characters.")
        # `?search=` is what many API clients send; where the filters have no search it is a 400, not ignored.
        filterset = getattr(self, "filterset_class", None)
        if "search" in request.query_params and (filterset is None or "search" not in filterset.base_filters):
            raise ParseError("This endpoint has no search parameter; its filters are listed in /api/schema/.")


class ReadOnlyApiViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """List and read."""


class ModelApiViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, ReadOnlyApiViewSet):
    """List, read, create, update and delete."""
