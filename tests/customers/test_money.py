"""Money in a real currency: ISO 4217 codes, dated exchange rates, every figure in the base currency."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers import services
from customers.models import ExchangeRate, Order, Segment
from metrics.models import CustomerMetrics, SegmentSnapshot
from metrics.services import customers_recompute
from metrics.snapshots import build_segment
from tests.api.conftest import token_client
from tests.customers.factories import CustomerFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db

# 23:30 on 31 March in Bangkok (the reports' zone) is still 31 March there, though 16:30 UTC.
LATE_MARCH = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)


@pytest.fixture
def agent_api(agent):
    return token_client(agent)


@pytest.fixture
def baht_rates():
    return [
        ExchangeRateFactory(currency="THB", valid_from=date(2026, 1, 1), rate=Decimal("0.0280000000")),
        ExchangeRateFactory(currency="THB", valid_from=date(2026, 4, 1), rate=Decimal("0.0300000000")),
    ]


def test_a_baht_order_and_a_dollar_order_sum_in_the_base_currency(baht_rates):
    customer = CustomerFactory()
    baht = services.order_create(customer=customer, amount=Decimal("1000.00"), currency="THB", ordered_at=LATE_MARCH)
    dollars = services.order_create(customer=customer, amount=Decimal("12.50"), currency="USD", ordered_at=LATE_MARCH)

    assert (baht.amount, baht.currency, baht.exchange_rate, baht.amount_base) == (
        Decimal("1000.00"), "THB", Decimal("0.028"), Decimal("28.00"),
    )  # fmt: skip
    assert (dollars.exchange_rate, dollars.amount_base) == (Decimal(1), Decimal("12.50"))
    customers_recompute(customer_ids=[customer.id])
    metrics = CustomerMetrics.objects.get(customer=customer)
    assert metrics.revenue == Decimal("40.50")  # never 1012.50

    build_segment(Segment.objects.get(slug="all-customers"), months=12, today=date(2026, 4, 15))
    march = SegmentSnapshot.objects.get(segment__slug="all-customers", period="month", period_start=date(2026, 3, 1))
    assert (march.orders, march.revenue) == (2, Decimal("40.50"))


def test_an_order_takes_the_rate_in_effect_on_its_day(baht_rates):
    customer = CustomerFactory()
    april = services.order_create(
        customer=customer,
        amount=Decimal("1000.00"),
        currency="THB",
        ordered_at=datetime(2026, 3, 31, 17, 30, tzinfo=UTC),
    )  # 00:30 on 1 April in Bangkok
    assert april.amount_base == Decimal("30.00")
    services.order_update(order=april, ordered_at=LATE_MARCH)
    april.refresh_from_db()
    assert (april.exchange_rate, april.amount_base) == (Decimal("0.028"), Decimal("28.00"))


def test_no_rate_on_the_orders_day_is_a_clear_error_and_nothing_is_stored(baht_rates):
    with pytest.raises(ValidationError) as error:
        services.order_create(
            customer=CustomerFactory(),
            amount=Decimal("5"),
            currency="THB",
            ordered_at=datetime(2025, 12, 30, tzinfo=UTC),
        )
    assert "No exchange rate from THB to USD on or before 2025-12-30" in str(error.value.message_dict["currency"])
    with pytest.raises(ValidationError) as error:
        services.order_create(customer=CustomerFactory(), amount=Decimal("5"), currency="MYR")
    assert "MYR" in str(error.value)
    assert not Order.objects.exists()


@pytest.mark.parametrize("code", ["ZZZ", "XTS", "usd1", "BAHT"])
def test_codes_that_are_not_iso_4217_currencies_are_refused(code):
    with pytest.raises(ValidationError) as error:
        services.order_create(customer=CustomerFactory(), amount=Decimal("5"), currency=code)
    assert "ISO 4217" in str(error.value.message_dict["currency"])


def test_the_api_answers_400_for_a_missing_rate_or_a_bad_code_and_shows_both_amounts(agent_api, baht_rates):
    customer = CustomerFactory(external_id="SHOPPER")
    body = {"customer": customer.pk, "amount": "1000.00", "ordered_at": LATE_MARCH.isoformat()}
    missing = agent_api.post("/api/orders/", {**body, "currency": "SGD"}, format="json")
    assert missing.status_code == 400
    assert "No exchange rate from SGD" in str(missing.json())
    bad = agent_api.post("/api/orders/", {**body, "currency": "ZZZ"}, format="json")
    assert bad.status_code == 400 and "ISO 4217" in str(bad.json())
    bulk = agent_api.post(
        "/api/orders/bulk/",
        [{"external_id": "X1", "customer_external_id": "SHOPPER", "amount": "5", "currency": "SGD",
          "ordered_at": LATE_MARCH.isoformat()}],
        format="json",
    )  # fmt: skip
    assert bulk.status_code == 400 and "No exchange rate from SGD" in str(bulk.json())
    assert not Order.objects.exists()

    ok = agent_api.post("/api/orders/", {**body, "currency": "THB"}, format="json")
    assert ok.status_code == 201, ok.json()
    assert (ok.json()["amount"], ok.json()["currency"], ok.json()["amount_base"]) == ("1000.00", "THB", "28.00")


def test_bulk_ingest_converts_each_order_at_its_days_rate(agent_api, baht_rates):
    CustomerFactory(external_id="SHOPPER")
    items = [
        {"external_id": f"B{i}", "customer_external_id": "SHOPPER", "amount": "100", "currency": "THB",
         "ordered_at": at}
        for i, at in enumerate(["2026-03-15T10:00:00+07:00", "2026-04-15T10:00:00+07:00"])
    ]  # fmt: skip
    response = agent_api.post("/api/orders/bulk/", items, format="json")
    assert response.status_code == 201, response.json()
    assert list(Order.objects.order_by("ordered_at").values_list("amount_base", flat=True)) == [
        Decimal("2.80"),
        Decimal("3.00"),
    ]


def test_the_profile_shows_the_original_amount_and_the_base_amount(agent_client, baht_rates):
    customer = CustomerFactory()
    services.order_create(customer=customer, amount=Decimal("1000.00"), currency="THB", ordered_at=LATE_MARCH)
    page = agent_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "1,000.00 THB" in page and "28.00 USD" in page


def test_exchange_rates_import_from_csv_all_or_nothing(tmp_path):
    good = tmp_path / "rates.csv"
    good.write_text("currency,valid_from,rate\nTHB,2026-01-01,0.028\nmyr,2026-01-01,0.21\nTHB,2026-01-01,0.029\n")
    call_command("import_exchange_rates", str(good), stdout=StringIO())
    assert dict(ExchangeRate.objects.values_list("currency", "rate")) == {
        "THB": Decimal("0.029"),
        "MYR": Decimal("0.21"),
    }
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "currency,valid_from,rate\nTWD,2026-01-01,0.031\nZZZ,2026-01-01,1\nHKD,31/01/2026,0.13\nSGD,2026-01-01,-1\n"
    )
    with pytest.raises(CommandError) as error:
        call_command("import_exchange_rates", str(bad), stdout=StringIO())
    assert all(f"line {n}" in str(error.value) for n in (3, 4, 5))
    assert not ExchangeRate.objects.filter(currency="TWD").exists()


def test_the_admin_edits_rates_and_an_order_without_a_rate_is_a_form_error(admin_client_, baht_rates):
    response = admin_client_.post(
        reverse("admin:customers_exchangerate_add"), {"currency": "MYR", "valid_from": "2026-01-01", "rate": "0.21"}
    )
    assert response.status_code == 302
    customer = CustomerFactory()
    form = {"customer": customer.pk, "amount": "10.00", "currency": "SGD", "ordered_at_0": "2026-03-01",
            "ordered_at_1": "10:00:00"}  # fmt: skip
    response = admin_client_.post(reverse("admin:customers_order_add"), form)
    assert response.status_code == 200 and "No exchange rate from SGD" in response.content.decode()
    response = admin_client_.post(reverse("admin:customers_order_add"), {**form, "currency": "MYR"})
    assert response.status_code == 302
    assert Order.objects.get().amount_base == Decimal("2.10")
