from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.utils import timezone

from customers import services
from customers.models import Customer, EngagementEvent, Interaction, InteractionReply
from metrics.models import StaleCustomer
from tests.customers.factories import CustomerFactory, EngagementEventFactory, InteractionFactory, OrderFactory

pytestmark = pytest.mark.django_db


def stale_ids() -> set[int]:
    return set(StaleCustomer.objects.values_list("customer_id", flat=True))


@pytest.fixture(autouse=True)
def no_recompute():
    """The recompute task belongs to the metrics engine; here we only check that it is asked for."""
    with mock.patch("metrics.tasks.recompute_customers.delay") as delay:
        yield delay


def test_customer_create_saves_tags_upper_cases_the_country_and_marks_it_stale(agent):
    customer = services.customer_create(
        actor=agent, external_id="EXT-1", name="Somchai Jaidee", country="th", tags=["VIP", " reseller ", ""]
    )
    assert customer.country == "TH"
    assert sorted(customer.tags.values_list("name", flat=True)) == ["reseller", "vip"]
    assert customer.pk in stale_ids()
    assert customer.history.get().history_user == agent


def test_customer_create_rejects_a_duplicate_external_id_and_saves_nothing():
    CustomerFactory(external_id="EXT-1")
    with pytest.raises(ValidationError) as error:
        services.customer_create(external_id="EXT-1", name="Other")
    assert "external_id" in error.value.error_dict
    assert Customer.objects.count() == 1


def test_customer_create_rejects_a_churn_date_before_acquisition():
    with pytest.raises(ValidationError):
        services.customer_create(external_id="E", name="N", acquired_at=date(2025, 5, 1), churned_at=date(2025, 4, 30))
    assert not Customer.objects.exists()


def test_customer_create_refuses_fields_it_does_not_know():
    with pytest.raises(TypeError):
        services.customer_create(external_id="E", name="N", created_at=timezone.now())


def test_customer_update_records_what_changed_and_marks_stale_only_for_figures(agent):
    customer = CustomerFactory(name="Old name")
    StaleCustomer.objects.all().delete()
    services.customer_update(customer=customer, actor=agent, name="New name")
    assert customer.pk not in stale_ids()
    latest = customer.history.first()
    assert latest.name == "New name" and latest.history_user == agent

    services.customer_update(customer=customer, churned_at=timezone.localdate(), lifecycle_stage="churned")
    assert customer.pk in stale_ids()


def test_customer_update_leaves_the_row_unchanged_when_invalid():
    customer = CustomerFactory(email="a@example.com")
    with pytest.raises(ValidationError):
        services.customer_update(customer=customer, email="not an email")
    customer.refresh_from_db()
    assert customer.email == "a@example.com"


def test_customer_update_replaces_tags_when_given():
    customer = services.customer_create(external_id="E", name="N", tags=["a", "b"])
    services.customer_update(customer=customer, tags=["b", "c"])
    assert sorted(customer.tags.values_list("name", flat=True)) == ["b", "c"]


def test_interaction_create_opens_it_now_and_marks_the_customer_stale(
    agent, no_recompute, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        interaction = services.interaction_create(
            customer=customer, staff=agent, channel="phone", subject="  Billing question  "
        )
    assert interaction.status == Interaction.Status.OPEN
    assert interaction.subject == "Billing question"
    assert abs((timezone.now() - interaction.opened_at).total_seconds()) < 5
    assert customer.pk in stale_ids()
    no_recompute.assert_called_once_with([customer.pk])


def test_interaction_create_rejects_an_unknown_channel():
    with pytest.raises(ValidationError) as error:
        services.interaction_create(customer=CustomerFactory(), staff=None, channel="pigeon", subject="Hi")
    assert "channel" in error.value.error_dict


def test_interaction_update_refuses_an_opening_after_the_first_response(agent):
    interaction = InteractionFactory()
    services.interaction_reply(interaction=interaction, author=agent, body="Hello")
    interaction.refresh_from_db()
    with pytest.raises(ValidationError):
        services.interaction_update(interaction=interaction, opened_at=timezone.now() + timedelta(hours=1))


def test_interaction_update_refuses_status_changes():
    with pytest.raises(TypeError):
        services.interaction_update(interaction=InteractionFactory(), status="resolved")


def test_the_first_reply_sets_the_first_response_time_and_later_ones_do_not(agent):
    interaction = InteractionFactory()
    first_at = interaction.opened_at + timedelta(minutes=30)
    services.interaction_reply(interaction=interaction, author=agent, body="On it", at=first_at)
    services.interaction_reply(
        interaction=interaction, author=agent, body="Done", at=interaction.opened_at + timedelta(hours=5)
    )
    interaction.refresh_from_db()
    assert interaction.first_response_at == first_at
    assert InteractionReply.objects.filter(interaction=interaction).count() == 2
    assert interaction.history.filter(history_change_reason="First response").count() == 1


def test_a_reply_cannot_predate_the_interaction(agent):
    interaction = InteractionFactory()
    with pytest.raises(ValidationError):
        services.interaction_reply(
            interaction=interaction, author=agent, body="x", at=interaction.opened_at - timedelta(seconds=1)
        )
    assert not InteractionReply.objects.exists()


def test_a_blank_reply_is_refused(agent):
    with pytest.raises(ValidationError):
        services.interaction_reply(interaction=InteractionFactory(), author=agent, body="   ")


def test_resolve_takes_the_time_of_the_resolve_event_and_calls_the_survey_trigger(agent):
    interaction = InteractionFactory()
    InteractionFactory._meta.model.objects.filter(pk=interaction.pk).update(
        updated_at=timezone.now() - timedelta(days=1)
    )
    before = timezone.now()
    with mock.patch("surveys.triggers.on_interaction_resolved") as trigger:
        resolved = services.interaction_resolve(interaction=interaction, actor=agent)
    assert resolved.status == Interaction.Status.RESOLVED
    assert before <= resolved.resolved_at <= timezone.now()
    trigger.assert_called_once()
    assert trigger.call_args.kwargs["interaction"].pk == interaction.pk
    assert interaction.customer_id in stale_ids()


def test_a_later_edit_does_not_move_the_resolution_time(agent):
    interaction = services.interaction_resolve(interaction=InteractionFactory(), actor=agent)
    resolved_at = interaction.resolved_at
    services.interaction_update(interaction=interaction, notes="Added later")
    interaction.refresh_from_db()
    assert interaction.resolved_at == resolved_at


def test_resolving_twice_triggers_the_survey_once(agent):
    interaction = InteractionFactory()
    with mock.patch("surveys.triggers.on_interaction_resolved") as trigger:
        first = services.interaction_resolve(interaction=interaction, actor=agent)
        second = services.interaction_resolve(interaction=interaction, actor=agent)
    assert trigger.call_count == 1
    assert first.resolved_at == second.resolved_at


def test_the_resolve_is_rolled_back_when_the_survey_trigger_fails(agent):
    interaction = InteractionFactory()
    with (
        mock.patch("surveys.triggers.on_interaction_resolved", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        services.interaction_resolve(interaction=interaction, actor=agent)
    interaction.refresh_from_db()
    assert interaction.status == Interaction.Status.OPEN and interaction.resolved_at is None


def test_reopen_clears_the_resolution_and_is_recorded(agent):
    interaction = services.interaction_resolve(interaction=InteractionFactory(), actor=agent)
    reopened = services.interaction_reopen(interaction=interaction, actor=agent)
    assert reopened.status == Interaction.Status.OPEN and reopened.resolved_at is None
    reasons = list(interaction.history.values_list("history_change_reason", flat=True))
    assert reasons[:2] == ["Reopened", "Resolved"]


def test_reopening_an_open_interaction_changes_nothing():
    interaction = InteractionFactory()
    count = interaction.history.count()
    services.interaction_reopen(interaction=interaction)
    assert interaction.history.count() == count


def test_order_create_marks_the_buyer_and_the_referrer_stale(thb_rate):
    buyer, referrer = CustomerFactory(), CustomerFactory()
    order = services.order_create(customer=buyer, amount=Decimal("49.90"), currency="thb", referred_by=referrer)
    assert order.currency == "THB"
    assert {buyer.pk, referrer.pk} <= stale_ids()


def test_order_create_refuses_a_negative_amount():
    with pytest.raises(ValidationError):
        services.order_create(customer=CustomerFactory(), amount=Decimal("-1"))


def test_event_create_refuses_a_duration_on_something_that_is_not_a_session():
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        services.event_create(customer=customer, kind=EngagementEvent.Kind.EMAIL_OPENED, duration_seconds=30)
    event = services.event_create(customer=customer, kind=EngagementEvent.Kind.SESSION, duration_seconds=30, pages=2)
    assert event.pk and customer.pk in stale_ids()


def test_event_create_refuses_a_duplicate_external_id():
    customer = CustomerFactory()
    services.event_create(customer=customer, kind="session", external_id="ev-1")
    with pytest.raises(ValidationError):
        services.event_create(customer=customer, kind="session", external_id="ev-1")


def test_referral_create_needs_someone_and_marks_the_referrer_stale():
    referrer = CustomerFactory()
    with pytest.raises(ValidationError):
        services.referral_create(referrer=referrer)
    with pytest.raises(ValidationError):
        services.referral_create(referrer=referrer, converted_customer=referrer)
    referral = services.referral_create(referrer=referrer, referred_email="friend@example.com")
    assert referral.pk and referrer.pk in stale_ids()


def test_an_explicit_resolution_time_is_kept_and_may_not_precede_the_opening(agent):
    interaction = InteractionFactory()
    with pytest.raises(ValidationError):
        services.interaction_resolve(interaction=interaction, actor=agent, at=interaction.opened_at - timedelta(1))
    at = interaction.opened_at + timedelta(hours=3)
    with mock.patch("surveys.triggers.on_interaction_resolved") as trigger:
        resolved = services.interaction_resolve(interaction=interaction, actor=agent, at=at)
        corrected = services.interaction_resolve(interaction=interaction, actor=agent, at=at + timedelta(hours=1))
    assert resolved.resolved_at == at
    assert corrected.resolved_at == at + timedelta(hours=1)
    trigger.assert_called_once()


def test_setting_a_status_resolves_reopens_or_waits(agent):
    interaction = InteractionFactory()
    waiting = services.interaction_set_status(interaction=interaction, status=Interaction.Status.WAITING, actor=agent)
    assert waiting.status == Interaction.Status.WAITING
    resolved = services.interaction_set_status(interaction=interaction, status=Interaction.Status.RESOLVED, actor=agent)
    assert resolved.resolved_at is not None
    reopened = services.interaction_set_status(interaction=interaction, status=Interaction.Status.WAITING, actor=agent)
    assert (reopened.status, reopened.resolved_at) == (Interaction.Status.WAITING, None)


def test_moving_an_interaction_marks_both_customers_stale(agent):
    interaction, other = InteractionFactory(), CustomerFactory()
    old = interaction.customer_id
    StaleCustomer.objects.all().delete()
    services.interaction_update(interaction=interaction, actor=agent, customer=other)
    assert stale_ids() == {old, other.pk}


def test_moving_an_order_marks_the_old_and_new_buyer_and_the_referrer_stale(thb_rate):
    order, other, referrer = OrderFactory(), CustomerFactory(), CustomerFactory()
    old = order.customer_id
    StaleCustomer.objects.all().delete()
    services.order_update(order=order, customer=other, referred_by=referrer, currency="thb")
    assert (order.currency, stale_ids()) == ("THB", {old, other.pk, referrer.pk})


def test_deleting_an_order_an_event_or_an_interaction_marks_the_customer_stale(agent):
    order, event, interaction = OrderFactory(), EngagementEventFactory(), InteractionFactory()
    StaleCustomer.objects.all().delete()
    services.order_delete(order=order)
    services.event_delete(event=event)
    services.interaction_delete(interaction=interaction, actor=agent)
    assert stale_ids() == {order.customer_id, event.customer_id, interaction.customer_id}


def test_a_customer_with_orders_is_not_deleted(agent):
    order = OrderFactory()
    with pytest.raises(ProtectedError):
        services.customer_delete(customer=order.customer, actor=agent)
    assert Customer.objects.filter(pk=order.customer_id).exists()


def test_an_event_update_is_validated_like_a_new_event():
    event = EngagementEventFactory(kind=EngagementEvent.Kind.EMAIL_OPENED)
    with pytest.raises(ValidationError):
        services.event_update(event=event, duration_seconds=30)
