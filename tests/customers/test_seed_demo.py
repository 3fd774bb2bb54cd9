"""seed_demo keeps an existing demo database but says when its size differs, and --reset reloads it."""

from io import StringIO

import pytest
from django.core.management import call_command

from customers.models import Customer, Order

pytestmark = pytest.mark.django_db(transaction=True)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_a_different_size_on_an_existing_database_says_how_to_reload_and_reset_does():
    seed("--customers", "40")
    assert Customer.objects.count() == 40
    message = seed("--customers", "60", "--if-empty")
    assert "holds 40 customers, not the 60 asked for" in message
    assert "seed_demo --reset --customers 60" in message
    assert Customer.objects.count() == 40

    seed("--customers", "25", "--reset")
    assert Customer.objects.count() == 25
    assert not Order.objects.exclude(customer__in=Customer.objects.all()).exists()
