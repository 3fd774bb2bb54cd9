from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import (
    Customer,
    EngagementEvent,
    ExchangeRate,
    Interaction,
    InteractionReply,
    Order,
    Referral,
    Segment,
    Tag,
)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"C{n:07d}")
    name = factory.Faker("name")
    first_name = factory.LazyAttribute(lambda o: o.name.split(" ")[0])
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+6681{n:07d}")
    country = "TH"
    city = "Bangkok"
    language = "en"
    acquired_at = factory.LazyFunction(lambda: date.today() - timedelta(days=400))
    # The stage follows the churn date (a check constraint): churned exactly when churned_at is set.
    lifecycle_stage = factory.LazyAttribute(lambda o: Customer.Stage.CHURNED if o.churned_at else Customer.Stage.ACTIVE)
    churned_at = None


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = Interaction.Channel.EMAIL
    subject = factory.Sequence(lambda n: f"Question {n}")
    opened_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))


class InteractionReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InteractionReply

    interaction = factory.SubFactory(InteractionFactory)
    body = "Thanks, we are on it."
    created_at = factory.LazyAttribute(lambda o: o.interaction.opened_at + timedelta(hours=1))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    amount = Decimal("100.00")
    currency = "USD"
    exchange_rate = Decimal(1)
    amount_base = factory.LazyAttribute(lambda o: (Decimal(o.amount) * o.exchange_rate).quantize(Decimal("0.01")))
    ordered_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    """Thai baht to the base currency (USD in tests), in effect since 2000."""

    class Meta:
        model = ExchangeRate
        django_get_or_create = ("currency", "valid_from")

    currency = "THB"
    valid_from = date(2000, 1, 1)
    rate = Decimal("0.0280000000")


class EngagementEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngagementEvent

    customer = factory.SubFactory(CustomerFactory)
    kind = EngagementEvent.Kind.EMAIL_OPENED
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    referrer = factory.SubFactory(CustomerFactory)
    referred_email = factory.Sequence(lambda n: f"friend{n}@example.com")


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    slug = factory.Sequence(lambda n: f"segment-{n}")
    kind = Segment.Kind.DYNAMIC
    filter_params = factory.LazyFunction(dict)
