"""Bank holidays from a maintained source: the ``holidays`` package (pinned in pyproject.toml).

A hand-kept list of dates runs out: the year after its last entry every bank holiday counts as
a working day and "N working hours" deadlines fall due while nobody is watching. The package
computes each year's holidays (Easter, substitute days, one-off royal occasions it knows of),
so the policy file names a calendar and lists only the health board's own closures.

The dates are resolved once, for a span of years, into a frozen set: working-hours arithmetic
stays a set look-up, and the resolved dates are part of the enforcement config's digest
(``streams.enforce.config.config_digest``), so a package upgrade that moves a date shows up as
a config change a replay can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import metadata

import holidays

# England and Wales share one calendar of bank holidays; the health board is in Wales.
DEFAULT_COUNTRY = "GB"
DEFAULT_SUBDIV = "WLS"
# Wide enough that no deadline computed in the service's life falls outside it.
DEFAULT_YEARS = (2000, 2099)


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """Which public calendar to resolve: an ISO 3166 country, its subdivision, and years."""

    country: str = DEFAULT_COUNTRY
    subdiv: str | None = DEFAULT_SUBDIV
    first_year: int = DEFAULT_YEARS[0]
    last_year: int = DEFAULT_YEARS[1]

    def dates(self) -> frozenset[date]:
        return _resolve(self.country, self.subdiv, self.first_year, self.last_year)

    def describe(self) -> str:
        where = f"{self.country}/{self.subdiv}" if self.subdiv else self.country
        return f"holidays {metadata.version('holidays')} {where} {self.first_year}-{self.last_year}"


def check_calendar(calendar: HolidayCalendar) -> None:
    """Raise ValueError naming the field when the package does not know the calendar."""
    if calendar.first_year > calendar.last_year:
        raise ValueError(
            f"monitoring_hours.bank_holidays.years: {calendar.first_year} is after "
            f"{calendar.last_year}"
        )
    supported = holidays.list_supported_countries()
    if calendar.country not in supported:
        raise ValueError(
            f"monitoring_hours.bank_holidays.country {calendar.country!r} is not a country the "
            "holidays package knows (an ISO 3166 code such as GB)"
        )
    if calendar.subdiv is not None and calendar.subdiv not in supported[calendar.country]:
        raise ValueError(
            f"monitoring_hours.bank_holidays.subdiv {calendar.subdiv!r} is not one of "
            f"{sorted(supported[calendar.country])} for {calendar.country}"
        )


@lru_cache(maxsize=8)
def _resolve(country: str, subdiv: str | None, first: int, last: int) -> frozenset[date]:
    # Policy reloads rebuild the config; the calendar is the same, so it is computed once.
    found = holidays.country_holidays(country, subdiv=subdiv, years=range(first, last + 1))
    return frozenset(found)
