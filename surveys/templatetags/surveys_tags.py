from typing import Any

from django import template

from customers.models import Customer
from surveys.forms import InviteForm
from surveys.selectors import customer_invitations

register = template.Library()


@register.simple_tag
def surveys_panel(customer: Customer) -> dict[str, Any]:
    """Data for the profile's surveys panel: the invite form and the latest invitations."""
    return {"form": InviteForm(), "invitations": customer_invitations(customer)}
