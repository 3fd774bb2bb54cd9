"""core.formats: the one way people, dates, times, durations and money are shown."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone

from core import formats
from customers.models import Order
from metrics import presenters


class TestStaffName:
    def test_it_shows_the_full_name(self) -> None:
        user = User(pk=1, username="aom", first_name="Aom", last_name="Srisuk")
        assert formats.staff_name(user) == "Aom Srisuk"

    def test_it_falls_back_to_the_username_without_a_name(self) -> None:
        assert formats.staff_name(User(pk=1, username="aom")) == "aom"
        assert formats.staff_name(User(pk=1, username="aom", first_name=" ", last_name="")) == "aom"

    def test_a_first_name_alone_is_a_name(self) -> None:
        assert formats.staff_name(User(pk=1, username="aom", first_name="Aom")) == "Aom"

    def test_nobody_is_a_dash_or_the_word_the_caller_chooses(self) -> None:
        assert formats.staff_name(None) == "—"
        assert formats.staff_name(AnonymousUser()) == "—"
        assert formats.staff_name(None, empty="System") == "System"


class TestDatesAndTimes:
    @override_settings(TIME_ZONE="Asia/Bangkok")
    def test_a_utc_timestamp_is_shown_in_bangkok_time(self) -> None:
        assert formats.format_datetime(datetime(2026, 3, 5, 7, 30, tzinfo=UTC)) == "2026-03-05 14:30"

    @override_settings(TIME_ZONE="Asia/Bangkok")
    def test_late_utc_evening_is_the_next_day_in_bangkok(self) -> None:
        late = datetime(2026, 3, 5, 20, 15, tzinfo=UTC)
        assert formats.format_datetime(late) == "2026-03-06 03:15"
        assert formats.format_date(late) == "2026-03-06"

    @override_settings(TIME_ZONE="Asia/Kuala_Lumpur")
    def test_the_zone_is_the_setting_whatever_zone_is_active(self) -> None:
        with timezone.override(ZoneInfo("America/New_York")):
            assert formats.format_datetime(datetime(2026, 3, 5, 7, 30, tzinfo=UTC)) == "2026-03-05 15:30"

    @override_settings(TIME_ZONE="Asia/Bangkok")
    def test_an_aware_time_in_another_zone_is_converted(self) -> None:
        taipei = datetime(2026, 3, 5, 15, 30, tzinfo=ZoneInfo("Asia/Taipei"))
        assert formats.format_datetime(taipei) == "2026-03-05 14:30"

    @override_settings(TIME_ZONE="Asia/Bangkok")
    def test_a_naive_time_is_taken_as_local_and_shown_as_it_is(self) -> None:
        assert formats.format_datetime(datetime(2026, 3, 5, 14, 30, 59)) == "2026-03-05 14:30"

    def test_a_date_is_shown_year_first(self) -> None:
        assert formats.format_date(date(2026, 3, 5)) == "2026-03-05"

    def test_none_is_a_dash(self) -> None:
        assert formats.format_datetime(None) == "—"
        assert formats.format_date(None) == "—"


class TestDuration:
    @pytest.mark.parametrize(
        ("seconds", "shown"),
        [
            (0, "0 s"),
            (59, "59 s"),
            (60, "1 min"),
            (3599, "59 min"),
            (3600, "1 h"),
            (5400, "1 h 30 min"),
            (47 * 3600 + 59 * 60, "47 h 59 min"),
            (48 * 3600, "2.0 days"),
            (60 * 3600, "2.5 days"),
            (-5, "-5 s"),
        ],
    )
    def test_it_reads_as_the_reports_do(self, seconds: int, shown: str) -> None:
        assert formats.format_duration(seconds) == shown

    def test_the_reports_use_this_one(self) -> None:
        assert presenters.format_duration is formats.format_duration
        assert presenters.format_value(Decimal(3 * 3600), "duration") == "3 h"

    def test_fractions_round_half_up_and_none_is_a_dash(self) -> None:
        assert formats.format_duration(Decimal("59.5")) == "1 min"
        assert formats.format_duration(Decimal("59.4")) == "59 s"
        assert formats.format_duration(None) == "—"

    def test_elapsed_time_between_two_moments(self) -> None:
        start = datetime(2026, 3, 5, 7, 30, tzinfo=UTC)
        assert formats.format_elapsed(start, start + timedelta(minutes=90)) == "1 h 30 min"
        assert formats.format_elapsed(start, None) == "—"


class TestMoney:
    def test_it_has_thousands_separators_two_decimals_and_the_code(self) -> None:
        assert formats.format_money(Decimal("1234.5"), "THB") == "1,234.50 THB"
        assert formats.format_money(Decimal("1234567.891"), "myr") == "1,234,567.89 MYR"

    def test_it_rounds_half_up(self) -> None:
        assert formats.format_money(Decimal("0.125"), "SGD") == "0.13 SGD"
        assert formats.format_money(Decimal("-0.001"), "HKD") == "0.00 HKD"
        assert formats.format_money(Decimal("-1500"), "HKD") == "-1,500.00 HKD"

    def test_currencies_without_minor_units_show_whole_amounts(self) -> None:
        assert formats.format_money(Decimal("1234.50"), "JPY") == "1,235 JPY"
        # TWD has cents in ISO 4217 and the orders store them.
        assert formats.format_money(Decimal("1200"), "TWD") == "1,200.00 TWD"

    def test_no_currency_means_the_base_currency(self, settings) -> None:
        if hasattr(settings, "BASE_CURRENCY"):
            del settings.BASE_CURRENCY
        assert formats.format_money(Decimal("100"), None) == "100.00 USD"
        settings.BASE_CURRENCY = "THB"
        assert formats.format_money(Decimal("100")) == "100.00 THB"
        assert formats.format_money(Decimal("100"), "") == "100.00 THB"

    def test_ints_and_decimal_strings_are_money_floats_are_not(self) -> None:
        assert formats.format_money(12, "USD") == "12.00 USD"
        assert formats.format_money("12.345", "USD") == "12.35 USD"
        with pytest.raises(TypeError):
            formats.format_money(12.5, "USD")

    def test_no_amount_is_a_dash(self) -> None:
        assert formats.format_money(None, "THB") == "—"

    def test_an_order_reads_as_its_money(self) -> None:
        assert str(Order(amount=Decimal("1234.5"), currency="THB")) == "1,234.50 THB"


class TestFilters:
    def render(self, source: str, **context: object) -> str:
        return Template("{% load formats %}" + source).render(Context(context))

    @override_settings(TIME_ZONE="Asia/Bangkok")
    def test_the_filters_use_the_formatters(self) -> None:
        at = datetime(2026, 3, 5, 20, 15, tzinfo=UTC)
        user = User(pk=1, username="aom", first_name="Aom", last_name="Srisuk")
        order = SimpleNamespace(amount=Decimal("1234.5"), currency="THB")
        html = self.render(
            "{{ user|staff_name }}|{{ nobody|staff_name:'Unassigned' }}|{{ at|datetime_local }}|{{ at|date_local }}"
            "|{{ 5400|duration }}|{{ order.amount|money:order.currency }}|{{ start|elapsed:at }}",
            user=user,
            nobody=None,
            at=at,
            order=order,
            start=at - timedelta(seconds=45),
        )
        assert html == "Aom Srisuk|Unassigned|2026-03-06 03:15|2026-03-06|1 h 30 min|1,234.50 THB|45 s"

    @override_settings(TIME_ZONE="Asia/Bangkok")
    def test_the_setting_wins_over_the_active_zone_in_templates(self) -> None:
        at = datetime(2026, 3, 5, 7, 30, tzinfo=UTC)
        with timezone.override(ZoneInfo("UTC")):
            assert self.render("{{ at|datetime_local }}", at=at) == "2026-03-05 14:30"

    def test_bad_values_are_shown_as_they_are_instead_of_breaking_the_page(self) -> None:
        assert self.render("{{ v|money:'THB' }}|{{ v|duration }}|{{ v|date_local }}", v="n/a") == "n/a|n/a|n/a"
