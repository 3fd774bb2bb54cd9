import pytest

from customers import services
from customers.audit import customer_audit_trail
from tests.customers.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def test_the_audit_trail_says_who_changed_what_on_the_customer_and_its_interactions(agent, manager):
    customer = CustomerFactory(plan="free")
    interaction = InteractionFactory(customer=customer, subject="Refund")
    services.customer_update(customer=customer, actor=manager, plan="pro", owner=agent)
    services.interaction_resolve(interaction=interaction, actor=agent)

    entries = customer_audit_trail(customer)
    resolved, changed = entries[0], entries[1]
    assert (resolved.action, resolved.subject, resolved.reason, resolved.user) == (
        "Changed",
        "Interaction “Refund”",
        "Resolved",
        agent,
    )
    assert ("Status", "Open", "Resolved") in [(c.label, c.old, c.new) for c in resolved.changes]
    assert changed.user == manager and changed.subject == "Customer"
    assert {(c.label, c.old, c.new) for c in changed.changes} == {("Plan", "Free", "Pro"), ("Owner", "—", "Aom")}
    assert [e.action for e in entries[2:]] == ["Created", "Created"]


def test_saves_that_change_nothing_visible_are_left_out():
    customer = CustomerFactory()
    customer.save()
    assert [e.action for e in customer_audit_trail(customer)] == ["Created"]


def test_the_audit_trail_is_limited_to_the_latest_changes():
    customer = CustomerFactory()
    for i in range(30):
        services.customer_update(customer=customer, city=f"City {i}")
    entries = customer_audit_trail(customer, limit=10)
    assert len(entries) == 10
    assert entries[0].changes[0].new == "City 29"
