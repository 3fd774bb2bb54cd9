"""Roles are Django groups. Agent < Manager < Admin: each role can do everything the one before can.

One place answers "may this user do that?" for views, templates and the API.
"""

from collections.abc import Callable
from enum import IntEnum
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission


class Role(IntEnum):
    AGENT = 1
    MANAGER = 2
    ADMIN = 3

    @property
    def group_name(self) -> str:
        return self.name.capitalize()


def role_of(user: Any) -> Role | None:
    """The highest role a user holds, or None for users with no role (and anonymous users)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    cached = getattr(user, "_rapport_role", False)
    if cached is not False:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = max((r for r in Role if r.group_name in names), default=None)
    user._rapport_role = role
    return role


def has_role(user: Any, role: Role) -> bool:
    held = role_of(user)
    return held is not None and held >= role


def users_with_a_role() -> QuerySet:
    """Active users holding any role (a role group, or superuser): the only users staff may make a
    customer's owner, an interaction's handler or a follow-up's assignee. A subquery rather than a
    join, so a user in two groups is listed once."""
    user_model = get_user_model()
    in_a_group = user_model.objects.filter(groups__name__in=[r.group_name for r in Role]).values("pk")
    return user_model.objects.filter(Q(pk__in=in_a_group) | Q(is_superuser=True), is_active=True).order_by("username")


def has_a_role(user: Any) -> bool:
    return role_of(user) is not None


def check_has_a_role(user: Any, *, field: str) -> None:
    """ValidationError on `field` unless `user` is empty or holds a role (for the services)."""
    if user is not None and not has_a_role(user):
        raise ValidationError({field: f"{user} has no role (Agent, Manager or Admin); choose a staff member."})


def role_required(role: Role) -> Callable:
    """View decorator: login required, then 403 unless the user holds `role` or a higher one."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class RoleRequiredMixin(AccessMixin):
    """Class-based view version of role_required. Set `required_role`."""

    required_role: Role = Role.AGENT

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.required_role):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class _HasRole(BasePermission):
    role: Role

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, self.role)


class IsAgent(_HasRole):
    role = Role.AGENT


class IsManager(_HasRole):
    role = Role.MANAGER


class IsAdmin(_HasRole):
    role = Role.ADMIN
