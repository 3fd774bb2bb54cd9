from typing import Any

from django.conf import settings
from django.http import HttpRequest

from customers.roles import Role, has_role


def roles(request: HttpRequest) -> dict[str, Any]:
    """Lets templates show only the navigation a user may follow (and name the base currency of money)."""
    user = getattr(request, "user", None)
    return {
        "is_agent": has_role(user, Role.AGENT),
        "is_manager": has_role(user, Role.MANAGER),
        "is_admin": has_role(user, Role.ADMIN),
        "base_currency": settings.BASE_CURRENCY,
    }
