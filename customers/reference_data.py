"""Rows every installation needs: the role groups with their permissions and the built-in segment.

Created by migration customers.0002; idempotent, so it can restore them after a database flush.
"""

from typing import Any

from django.apps import apps as global_apps

AGENT_MODELS = ["customer", "interaction", "interactionreply", "order", "engagementevent", "referral", "tag"]
ALL_CUSTOMERS_SLUG = "all-customers"


def ensure_role_groups(apps: Any = global_apps) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    agent, _ = Group.objects.get_or_create(name="Agent")
    manager, _ = Group.objects.get_or_create(name="Manager")
    Group.objects.get_or_create(name="Admin")
    agent_perms = Permission.objects.filter(content_type__app_label="customers", content_type__model__in=AGENT_MODELS)
    agent.permissions.set(agent_perms)
    manager.permissions.set(
        Permission.objects.filter(content_type__app_label__in=["customers", "surveys"]).exclude(
            codename__startswith="delete_"
        )
        | agent_perms
    )


def ensure_builtin_segments(apps: Any = global_apps) -> None:
    Segment = apps.get_model("customers", "Segment")
    Segment.objects.get_or_create(
        slug=ALL_CUSTOMERS_SLUG,
        defaults={"name": "All customers", "kind": "dynamic", "filter_params": {}, "is_builtin": True},
    )


def ensure_reference_data(apps: Any = global_apps) -> None:
    ensure_role_groups(apps)
    ensure_builtin_segments(apps)
