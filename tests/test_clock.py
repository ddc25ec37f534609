"""Office dates are Beijing dates, whatever the server's time zone."""

from datetime import date, datetime

from inspect_app.clock import day_end_utc, day_start_utc


def test_a_beijing_day_starts_at_16_00_utc_the_day_before(ctx):
    assert day_start_utc(date(2026, 1, 2)) == datetime(2026, 1, 1, 16, 0)
    assert day_end_utc(date(2026, 1, 2)) == datetime(2026, 1, 2, 16, 0)
