"""Business hours: the README's worked examples, holidays, closed days, daylight saving and pauses."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from support.business_hours import Schedule, add_business_seconds, around_the_clock, business_seconds, office_hours

BANGKOK = ZoneInfo("Asia/Bangkok")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600


def bkk(*args: int) -> datetime:
    return datetime(*args, tzinfo=BANGKOK)


def test_a_ticket_opened_friday_1730_and_answered_monday_0930_took_one_business_hour():
    schedule = office_hours("Asia/Bangkok")
    # 2026-01-09 is a Friday, 2026-01-12 the Monday after.
    assert business_seconds(schedule, bkk(2026, 1, 9, 17, 30), bkk(2026, 1, 12, 9, 30)) == HOUR


def test_time_outside_working_hours_counts_nothing():
    schedule = office_hours("Asia/Bangkok")
    assert business_seconds(schedule, bkk(2026, 1, 9, 18, 0), bkk(2026, 1, 12, 9, 0)) == 0
    assert business_seconds(schedule, bkk(2026, 1, 12, 10, 0), bkk(2026, 1, 12, 9, 0)) == 0


def test_a_thai_public_holiday_is_skipped():
    # Chakri Memorial Day, Monday 6 April 2026, is a Thai public holiday.
    import holidays

    assert date(2026, 4, 6) in holidays.country_holidays("TH", years=2026)
    thai = office_hours("Asia/Bangkok", country="TH")
    opened, answered = bkk(2026, 4, 3, 17, 30), bkk(2026, 4, 7, 9, 30)
    assert business_seconds(thai, opened, answered) == HOUR
    # Without the country's holidays the Monday counts in full.
    assert business_seconds(office_hours("Asia/Bangkok"), opened, answered) == 10 * HOUR


def test_holidays_of_other_markets_are_read_from_the_package():
    for country in ("TH", "MY", "TW", "SG", "HK"):
        schedule = office_hours("UTC", country=country, weekdays=range(7))
        closed = [d for d in (date(2026, 1, 1) + timedelta(days=i) for i in range(365)) if schedule.is_closed(d)]
        assert len(closed) >= 5, country


def test_custom_closed_days_are_skipped():
    schedule = office_hours("Asia/Bangkok", closed_days=frozenset({date(2026, 1, 12)}))
    assert business_seconds(schedule, bkk(2026, 1, 9, 17, 30), bkk(2026, 1, 13, 9, 30)) == HOUR


def test_the_day_clocks_go_forward_in_new_york_counts_the_hours_that_pass():
    # Clocks went from 02:00 EST to 03:00 EDT on Sunday 8 March 2026: 01:00–05:00 local is 3 hours.
    night = Schedule(time_zone=NEW_YORK, weekly={6: [(time(1), time(5))]})
    start, end = datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK), datetime(2026, 3, 8, 23, 0, tzinfo=NEW_YORK)
    assert business_seconds(night, start, end) == 3 * HOUR


def test_working_hours_follow_local_time_across_the_march_change():
    schedule = office_hours("America/New_York")
    # Friday 6 March 17:00 EST (22:00 UTC) to Monday 9 March 10:00 EDT (14:00 UTC): 1 h + 1 h.
    opened = datetime(2026, 3, 6, 22, 0, tzinfo=UTC)
    answered = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert business_seconds(schedule, opened, answered) == 2 * HOUR
    # Adding them back lands on the same instant, 09:00 local being 13:00 UTC after the change.
    assert add_business_seconds(schedule, opened, 2 * HOUR) == answered


def test_waiting_on_the_customer_pauses_the_clock():
    schedule = office_hours("Asia/Bangkok")
    opened, resolved = bkk(2026, 1, 12, 9, 0), bkk(2026, 1, 12, 18, 0)
    waiting = [(bkk(2026, 1, 12, 10, 0), bkk(2026, 1, 12, 12, 0)), (bkk(2026, 1, 12, 11, 0), bkk(2026, 1, 12, 13, 0))]
    # Overlapping pauses count once: 10:00–13:00 is paused, 6 of the 9 hours remain.
    assert business_seconds(schedule, opened, resolved, pauses=waiting) == 6 * HOUR


def test_a_due_time_skips_nights_weekends_and_holidays():
    thai = office_hours("Asia/Bangkok", country="TH")
    # Four business hours from Friday 3 April 2026 16:00: 2 h on Friday, the holiday Monday skipped,
    # 2 h on Tuesday morning.
    assert add_business_seconds(thai, bkk(2026, 4, 3, 16, 0), 4 * HOUR) == bkk(2026, 4, 7, 11, 0)


def test_a_due_time_of_zero_seconds_outside_hours_is_the_next_opening():
    schedule = office_hours("Asia/Bangkok")
    assert add_business_seconds(schedule, bkk(2026, 1, 10, 12, 0), 0) == bkk(2026, 1, 12, 9, 0)
    assert add_business_seconds(schedule, bkk(2026, 1, 12, 12, 0), 0) == bkk(2026, 1, 12, 12, 0)


def test_a_due_time_at_the_end_of_a_day_is_that_closing_time():
    schedule = office_hours("Asia/Bangkok")
    assert add_business_seconds(schedule, bkk(2026, 1, 12, 17, 0), HOUR) == bkk(2026, 1, 12, 18, 0)


def test_naive_datetimes_and_calendars_without_hours_are_refused():
    schedule = office_hours("Asia/Bangkok")
    with pytest.raises(ValueError, match="timezone-aware"):
        business_seconds(schedule, datetime(2026, 1, 12, 9), bkk(2026, 1, 12, 10))
    with pytest.raises(ValueError, match="no working hours"):
        add_business_seconds(Schedule(time_zone=BANGKOK, weekly={}), bkk(2026, 1, 12, 9), 60)


def test_without_a_calendar_business_time_is_elapsed_time_even_across_daylight_saving():
    clock = around_the_clock("America/New_York")
    start, end = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK), datetime(2026, 3, 8, 12, 0, tzinfo=NEW_YORK)
    assert business_seconds(clock, start, end) == 23 * HOUR
    assert add_business_seconds(clock, start, 23 * HOUR) == end
