"""Monitoring-hours arithmetic on event time (UTC epoch ms).

Every interval is built from local wall-clock times in the configured zone and only then turned
into epoch ms, so a working day is 09:00-17:00 local on both sides of a BST/GMT change. All
arithmetic is on integers: the same input gives the same deadline on every replay.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from streams.enforce.config import MonitoringHours

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_HOUR_MS = 3_600_000


def is_monitoring(ts_ms: int, hours: MonitoringHours) -> bool:
    """True when staff are watching at ``ts_ms``: a working day, start <= local time < end."""
    window = _window(_local_date(ts_ms, hours), hours)
    return window is not None and window[0] <= ts_ms < window[1]


def next_monitoring_start(ts_ms: int, hours: MonitoringHours) -> int:
    """The earliest instant at or after ``ts_ms`` inside monitoring hours.

    ``ts_ms`` itself when staff are watching then; otherwise the opening of the next working
    day, which is when an action that needs a person becomes due.
    """
    return _next_window(ts_ms, hours)[0]


def add_working_hours(ts_ms: int, hours_count: float, hours: MonitoringHours) -> int:
    """The instant by which ``hours_count`` hours of monitoring time have passed since ``ts_ms``.

    Only time inside monitoring hours counts: nights, weekends and bank holidays are skipped. A
    deadline that uses up a working day exactly lands on that day's closing time, not on the
    next morning, so "24 working hours" from Monday 09:00 is Wednesday 17:00.
    """
    if hours_count < 0:
        raise ValueError(f"hours_count must not be negative, got {hours_count}")
    remaining = round(hours_count * _HOUR_MS)
    cursor = ts_ms
    while remaining > 0:
        start, end = _next_window(cursor, hours)
        if remaining <= end - start:
            return start + remaining
        remaining -= end - start
        cursor = end
    return cursor


def _next_window(ts_ms: int, hours: MonitoringHours) -> tuple[int, int]:
    """(max(ts_ms, opening), closing) of the first working day that closes after ``ts_ms``."""
    day = _local_date(ts_ms, hours)
    # Every week has at least one working weekday (config checks), and each bank holiday can
    # take away at most one, so the search ends within this many days.
    for _ in range(7 * (len(hours.bank_holidays) + 2)):
        window = _window(day, hours)
        if window is not None and ts_ms < window[1]:
            return max(ts_ms, window[0]), window[1]
        day += timedelta(days=1)
    raise ValueError("monitoring_hours has no working day: check days and bank_holidays")


# A day's window is a function of the day and the (frozen) config alone, and every deadline
# walks the same few days: building it (two aware datetimes, two conversions) was a third of
# the enforce step's cost per comment (bench/profile_main_line.py).
@lru_cache(maxsize=4096)
def _window(day: date, hours: MonitoringHours) -> tuple[int, int] | None:
    if day.weekday() not in hours.weekdays or day in hours.bank_holidays:
        return None
    zone = hours.zone
    opening = datetime.combine(day, hours.start, tzinfo=zone)
    closing = datetime.combine(day, hours.end, tzinfo=zone)
    return _to_ms(opening), _to_ms(closing)


def _local_date(ts_ms: int, hours: MonitoringHours) -> date:
    return (_EPOCH + ts_ms * _ONE_MS).astimezone(hours.zone).date()


def _to_ms(moment: datetime) -> int:
    # Subtracting an aware datetime from the UTC epoch applies its UTC offset, so BST and GMT
    # wall times both come out as the right instant.
    return (moment - _EPOCH) // _ONE_MS
