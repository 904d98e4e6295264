"""Monitoring-hours arithmetic: weekends, bank holidays and both clock changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.enforce.config import MonitoringHours, from_dict
from streams.enforce.working_hours import (
    add_working_hours,
    is_monitoring,
    next_monitoring_start,
)

from .enforce_builders import CFG, london, utc

HOURS = CFG.monitoring


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        pytest.param(london(2026, 6, 2, 10), 3, london(2026, 6, 2, 13), id="same-day"),
        pytest.param(london(2026, 6, 2, 7), 1, london(2026, 6, 2, 10), id="before-opening"),
        pytest.param(london(2026, 6, 2, 19), 1, london(2026, 6, 3, 10), id="after-closing"),
        pytest.param(london(2026, 6, 5, 16), 1, london(2026, 6, 5, 17), id="fri-to-closing"),
        pytest.param(london(2026, 6, 5, 16), 1.5, london(2026, 6, 8, 9, 30), id="fri-to-mon"),
        pytest.param(london(2026, 6, 5, 16), 8, london(2026, 6, 8, 16), id="fri-8h-monday"),
        pytest.param(london(2026, 6, 5, 16), 16, london(2026, 6, 9, 16), id="fri-16h-tuesday"),
        pytest.param(london(2026, 6, 5, 16), 24, london(2026, 6, 10, 16), id="fri-24h-wednesday"),
        pytest.param(london(2026, 6, 6, 14), 24, london(2026, 6, 10, 17), id="saturday-24h"),
        pytest.param(london(2026, 6, 6, 14), 0, london(2026, 6, 6, 14), id="zero-hours"),
        # Clocks go forward on Sunday 29 March 2026: Monday opens at 08:00 UTC, not 09:00.
        pytest.param(london(2026, 3, 27, 16), 2, utc(2026, 3, 30, 9), id="bst-starts"),
        pytest.param(london(2026, 3, 27, 16), 8, utc(2026, 3, 30, 15), id="bst-starts-8h"),
        # Clocks go back on Sunday 25 October 2026: Friday closes 16:00 UTC, Monday 17:00 UTC.
        pytest.param(london(2026, 10, 23, 16), 8, utc(2026, 10, 26, 16), id="bst-ends-8h"),
        pytest.param(utc(2026, 10, 23, 15), 9, utc(2026, 10, 26, 17), id="bst-ends-closing"),
        # Christmas Day is Friday and Boxing Day's holiday moves to Monday 28th.
        pytest.param(london(2026, 12, 24, 16), 8, london(2026, 12, 29, 16), id="christmas-2026"),
        pytest.param(london(2025, 12, 24, 16), 2, london(2025, 12, 29, 10), id="christmas-2025"),
        pytest.param(london(2026, 4, 2, 16), 2, london(2026, 4, 7, 10), id="easter-2026"),
        pytest.param(london(2026, 5, 22, 16), 2, london(2026, 5, 26, 10), id="spring-bank-hol"),
        # Christmas 2028: Monday 25th and Tuesday 26th are bank holidays (the hand-kept list
        # ended in 2027, so they used to count as working days).
        pytest.param(london(2028, 12, 22, 16), 8, london(2028, 12, 27, 16), id="christmas-2028"),
        pytest.param(
            london(2028, 12, 22, 16), 24, london(2028, 12, 29, 16), id="christmas-2028-24h"
        ),
        pytest.param(london(2028, 12, 29, 16), 2, london(2029, 1, 2, 10), id="new-year-2029"),
    ],
)
def test_add_working_hours(start: int, count: float, expected: int) -> None:
    assert add_working_hours(start, count, HOURS) == expected


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (london(2026, 6, 1, 9), True),
        (london(2026, 6, 1, 8, 59), False),
        (london(2026, 6, 1, 16, 59), True),
        (london(2026, 6, 1, 17), False),
        (london(2026, 6, 6, 12), False),  # Saturday
        (london(2026, 12, 25, 12), False),  # Christmas Day
        (london(2026, 8, 31, 12), False),  # summer bank holiday
        (utc(2026, 3, 30, 8), True),  # 09:00 BST
        (utc(2026, 3, 30, 7, 30), False),  # 08:30 BST
        (utc(2026, 10, 26, 8, 30), False),  # 08:30 GMT
        (utc(2026, 10, 26, 16, 30), True),  # 16:30 GMT
    ],
)
def test_is_monitoring(ts: int, expected: bool) -> None:
    assert is_monitoring(ts, HOURS) is expected


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        pytest.param(london(2026, 6, 2, 10), london(2026, 6, 2, 10), id="inside-is-now"),
        pytest.param(london(2026, 6, 7, 3), london(2026, 6, 8, 9), id="sunday-3am"),
        pytest.param(london(2026, 6, 5, 17), london(2026, 6, 8, 9), id="friday-closing"),
        pytest.param(london(2026, 3, 29, 3), utc(2026, 3, 30, 8), id="bst-change-sunday"),
        pytest.param(london(2026, 10, 24, 12), utc(2026, 10, 26, 9), id="gmt-change-weekend"),
        pytest.param(london(2026, 12, 24, 18), london(2026, 12, 29, 9), id="christmas-eve"),
    ],
)
def test_next_monitoring_start(ts: int, expected: int) -> None:
    assert next_monitoring_start(ts, HOURS) == expected


def test_negative_hours_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_hours(london(2026, 6, 2, 10), -1, HOURS)


def test_local_closures_add_to_the_bank_holidays() -> None:
    # The board shuts on Wednesday 27 December 2028 too: the deadline moves a day on.
    hours = replace(HOURS, bank_holidays=HOURS.bank_holidays | {date(2028, 12, 27)})
    assert add_working_hours(london(2028, 12, 22, 16), 8, hours) == london(2028, 12, 28, 16)
    cfg = from_dict({}, {"local_closures": ["2028-12-27"]}, {}, {})
    assert cfg.monitoring.bank_holidays == hours.bank_holidays
    assert cfg.monitoring.local_closures == {date(2028, 12, 27)}


def test_other_zone_and_days() -> None:
    # Saturday-only 10:00-12:00 in New York: the arithmetic is not tied to London.
    hours = MonitoringHours(
        timezone="America/New_York",
        weekdays=frozenset({5}),
        start=HOURS.start.replace(hour=10),
        end=HOURS.end.replace(hour=12),
    )
    # Friday 2026-06-05 23:00 UTC is 19:00 in New York; Saturday opens 14:00 UTC.
    assert next_monitoring_start(utc(2026, 6, 5, 23), hours) == utc(2026, 6, 6, 14)
    assert add_working_hours(utc(2026, 6, 5, 23), 3, hours) == utc(2026, 6, 13, 15)


_times = st.integers(min_value=london(2025, 1, 1), max_value=london(2027, 12, 1))
_counts = st.integers(min_value=0, max_value=60 * 40).map(lambda minutes: minutes / 60)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(start=_times, first=_counts, second=_counts)
def test_working_hours_add_up(start: int, first: float, second: float) -> None:
    # Only monitored time counts, so two steps land where one step of the sum lands.
    one_step = add_working_hours(start, first + second, HOURS)
    assert add_working_hours(add_working_hours(start, first, HOURS), second, HOURS) == one_step
    assert one_step >= add_working_hours(start, first, HOURS) >= start


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(start=_times, count=st.integers(min_value=1, max_value=60 * 40).map(lambda m: m / 60))
def test_deadline_lands_inside_monitoring_hours(start: int, count: float) -> None:
    deadline = add_working_hours(start, count, HOURS)
    # Either staff are watching, or it is the closing instant of a working day.
    assert is_monitoring(deadline, HOURS) or is_monitoring(deadline - 1, HOURS)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(ts=_times)
def test_next_start_is_the_first_monitored_instant(ts: int) -> None:
    start = next_monitoring_start(ts, HOURS)
    assert start >= ts
    assert is_monitoring(start, HOURS)
    assert start == ts or not is_monitoring(start - 1, HOURS)
