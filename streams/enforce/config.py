"""Enforcement settings: deadlines, monitoring hours and how each clause is handled.

Built once per policy version from the policy file's ``enforcement:`` and ``monitoring_hours:``
sections plus each clause's procedure and severity. Every check happens here, so the decision
procedure can trust its config and never fail half-way through a decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.enforce.calendar import HolidayCalendar, check_calendar
from streams.enforce.messages import MESSAGE_KINDS, PLACEHOLDERS, WELSH_REPLIES, Texts
from streams.policy.model import Policy

PROCEDURES = (
    "warn_then_block",
    "immediate_removal",
    "personal_care",
    "emergency",
    "safeguarding",
    "spam",
    "review",
)
SEVERITIES = ("low", "medium", "high", "critical")
BEHAVIOUR_KINDS = ("spamming", "cross_author_spamming", "frequent_inflammatory", "flooding")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

_ENFORCEMENT_KEYS = frozenset(
    {
        "reply_deadline_working_hours",
        "notice_deadline_working_hours",
        "under_investigation",
        "immediate_block_behaviours",
        "spam_behaviours",
        "immediate_removal_severity",
        "closed_case_retention_days",
        "max_cases_per_author",
        "patient_experience_contact",
        "messages",
    }
)
_MESSAGES_KEYS = frozenset(
    {"welsh_replies", "clause_titles_cy", "patient_experience_contact_cy", *MESSAGE_KINDS}
)
# Clauses whose titles an author reads (in a request, notice or removal); each needs a Welsh one.
_TITLED_PROCEDURES = frozenset({"warn_then_block", "immediate_removal"})
_MONITORING_KEYS = frozenset({"timezone", "days", "start", "end", "bank_holidays"})
_MONITORING_KEYS = frozenset(
    {"timezone", "days", "start", "end", "bank_holidays", "local_closures"}
)
_CALENDAR_KEYS = frozenset({"country", "subdiv", "years"})

DEFAULT_CONTACT = "our patient experience team (you will find their contact details on our website)"


@dataclass(frozen=True, slots=True)
class MonitoringHours:
    """When staff watch the accounts. Times are local wall-clock times in ``timezone``."""

    timezone: str = "Europe/London"
    weekdays: frozenset[int] = frozenset(range(5))  # date.weekday(): 0 = Monday
    start: time = time(9, 0)
    end: time = time(17, 0)
    calendar: HolidayCalendar = field(default_factory=HolidayCalendar)  # England and Wales
    local_closures: frozenset[date] = frozenset()  # the board's own closed days
    # Every closed day: the calendar's bank holidays, resolved, plus the local closures.
    bank_holidays: frozenset[date] = field(default_factory=lambda: HolidayCalendar().dates())

    @property
    def zone(self) -> ZoneInfo:
        # ZoneInfo caches instances by key, so this is a dictionary look-up after the first call.
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class EnforcementConfig:
    monitoring: MonitoringHours = field(default_factory=MonitoringHours)
    procedures: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    severities: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    titles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    reply_deadline_hours: float = 24.0  # working hours the author has to remove the post
    notice_deadline_hours: float = 24.0  # working hours between the notice and the block
    under_investigation: frozenset[str] = frozenset()  # post ids and comment ids
    immediate_block_behaviours: frozenset[str] = frozenset({"frequent_inflammatory"})
    spam_behaviours: frozenset[str] = frozenset({"spamming", "cross_author_spamming"})
    immediate_removal_severity: str = "critical"
    closed_case_retention_days: int = 30
    max_cases_per_author: int = 200
    patient_experience_contact: str = DEFAULT_CONTACT
    texts: Texts = field(default_factory=Texts)  # what authors are told, in Welsh and English

    def procedure(self, clause: str) -> str:
        # A clause enforcement has never heard of goes to a person rather than being ignored.
        return self.procedures.get(clause, "review")

    def clause_severity(self, clause: str) -> str:
        return self.severities.get(clause, "low")

    @property
    def closed_case_retention_ms(self) -> int:
        return self.closed_case_retention_days * 86_400_000


def from_policy(policy: Policy) -> EnforcementConfig:
    """The config of one policy version: its sections and each clause's procedure, severity
    and title."""
    clauses = policy.clauses.values()
    return from_dict(
        policy.sections.get("enforcement", {}),
        policy.sections.get("monitoring_hours", {}),
        {c.id: c.procedure for c in clauses},
        {c.id: c.severity for c in clauses},
        titles={c.id: c.title for c in clauses},
    )


def config_digest(config: EnforcementConfig) -> str:
    """A hash of everything enforcement decides with, bank holidays resolved to their dates.

    The policy version hashes the file; this hashes what the file meant when it was read, so a
    calendar that moved a date (a package upgrade, a one-off bank holiday) is a visible change
    and a replay can show it decided with the same config as the live run.
    """
    canonical = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _canonical(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    return value


def from_dict(
    enforcement: Mapping[str, Any],
    monitoring_hours: Mapping[str, Any],
    procedures: Mapping[str, str],
    severities: Mapping[str, str],
    *,
    titles: Mapping[str, str] | None = None,
) -> EnforcementConfig:
    """Build the config from the policy file's sections; raises ValueError naming the bad field.

    ``titles`` (clause id -> title from the policy file) is optional: replies fall back to
    plain-words titles in ``streams.enforce.messages`` for the clause ids it knows.
    """
    _no_unknown_keys(enforcement, _ENFORCEMENT_KEYS, "enforcement")
    _no_unknown_keys(monitoring_hours, _MONITORING_KEYS, "monitoring_hours")
    block = _behaviours(enforcement, "immediate_block_behaviours", ("frequent_inflammatory",))
    spam = _behaviours(enforcement, "spam_behaviours", ("spamming", "cross_author_spamming"))
    if block & spam:
        raise ValueError(
            f"enforcement: behaviour kinds {sorted(block & spam)} are listed both as "
            "immediate_block_behaviours and spam_behaviours: each kind needs one handling"
        )
    return EnforcementConfig(
        monitoring=_monitoring(monitoring_hours),
        procedures=MappingProxyType(_clause_map(procedures, PROCEDURES, "procedure")),
        severities=MappingProxyType(_clause_map(severities, SEVERITIES, "severity")),
        titles=MappingProxyType(_titles(titles or {})),
        reply_deadline_hours=_hours(enforcement, "reply_deadline_working_hours"),
        notice_deadline_hours=_hours(enforcement, "notice_deadline_working_hours"),
        under_investigation=frozenset(_strings(enforcement, "under_investigation", ())),
        immediate_block_behaviours=block,
        spam_behaviours=spam,
        immediate_removal_severity=_one_of(
            enforcement.get("immediate_removal_severity", "critical"),
            SEVERITIES,
            "enforcement.immediate_removal_severity",
        ),
        closed_case_retention_days=_positive_int(enforcement, "closed_case_retention_days", 30),
        max_cases_per_author=_positive_int(enforcement, "max_cases_per_author", 200),
        patient_experience_contact=_text(enforcement, "patient_experience_contact"),
        texts=_texts(enforcement.get("messages"), procedures),
    )


def _texts(section: Any, procedures: Mapping[str, str]) -> Texts:
    """``enforcement.messages``: every message in English and Welsh, Welsh clause titles and
    contact, and how a Welsh comment is answered. Absent: everyone is answered in English."""
    if section is None:
        return Texts()
    _no_unknown_keys(section, _MESSAGES_KEYS, "enforcement.messages")
    english: dict[str, str] = {}
    welsh: dict[str, str] = {}
    for kind in MESSAGE_KINDS:
        texts = section.get(kind)
        where = f"enforcement.messages.{kind}"
        if not isinstance(texts, Mapping) or set(texts) != {"en", "cy"}:
            raise ValueError(f"{where} must give the text in English and Welsh: {{en: .., cy: ..}}")
        english[kind] = _template(texts["en"], kind, f"{where}.en")
        welsh[kind] = _template(texts["cy"], kind, f"{where}.cy")
    titles = section.get("clause_titles_cy", {})
    if not isinstance(titles, Mapping):
        raise ValueError("enforcement.messages.clause_titles_cy must map clause ids to titles")
    needed = {c for c, p in procedures.items() if p in _TITLED_PROCEDURES}
    needed.add("under_investigation")
    missing = sorted(needed - {c for c, t in titles.items() if isinstance(t, str) and t.strip()})
    if missing:
        raise ValueError(f"enforcement.messages.clause_titles_cy has no Welsh title for {missing}")
    return Texts(
        welsh=MappingProxyType(welsh),
        welsh_titles=MappingProxyType({str(c): str(t).strip() for c, t in titles.items()}),
        welsh_contact=_welsh_contact(section),
        english=MappingProxyType(english),
        welsh_replies=_one_of(
            section.get("welsh_replies", "bilingual"),
            WELSH_REPLIES,
            "enforcement.messages.welsh_replies",
        ),
    )


def _welsh_contact(section: Mapping[str, Any]) -> str:
    value = section.get("patient_experience_contact_cy")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("enforcement.messages.patient_experience_contact_cy must be Welsh text")
    return value.strip()


def _template(text: Any, kind: str, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where} must be non-empty text")
    allowed = PLACEHOLDERS[kind]
    try:
        text.format(**dict.fromkeys(allowed, ""))
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"{where}: placeholder {exc} is unknown; this message may use "
            f"{sorted('{' + p + '}' for p in allowed) or 'none'}"
        ) from None
    # A Welsh text that drops the deadline or the reasons would break a promise the English keeps.
    missing = sorted(p for p in allowed if "{" + p + "}" not in text)
    if missing:
        raise ValueError(f"{where} must say {', '.join('{' + p + '}' for p in missing)}")
    return " ".join(text.split())


def _no_unknown_keys(section: Mapping[str, Any], known: frozenset[str], name: str) -> None:
    if not isinstance(section, Mapping):
        raise ValueError(f"{name} must be a mapping, got {type(section).__name__}")
    unknown = sorted(str(k) for k in section if k not in known)
    if unknown:
        # A misspelt key would otherwise silently fall back to its default.
        raise ValueError(f"{name}: unknown keys {unknown}; known keys are {sorted(known)}")


def _monitoring(section: Mapping[str, Any]) -> MonitoringHours:
    tz = section.get("timezone", "Europe/London")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(
            f"monitoring_hours.timezone {tz!r} is not an IANA time zone (e.g. Europe/London)"
        ) from exc
    days = _sequence(section.get("days", WEEKDAYS[:5]), "monitoring_hours.days")
    weekdays = frozenset(
        WEEKDAYS.index(_one_of(d, WEEKDAYS, "monitoring_hours.days")) for d in days
    )
    if not weekdays:
        raise ValueError("monitoring_hours.days is empty: list at least one day, e.g. [mon]")
    start = _clock(section.get("start", "09:00"), "monitoring_hours.start")
    end = _clock(section.get("end", "17:00"), "monitoring_hours.end")
    if start >= end:
        raise ValueError(
            f"monitoring_hours: start {start:%H:%M} must be before end {end:%H:%M} "
            "(hours that cross midnight are not supported)"
        )
    calendar = _calendar(section.get("bank_holidays", {}))
    closures = _sequence(section.get("local_closures", ()), "monitoring_hours.local_closures")
    local = frozenset(_iso_date(d, "monitoring_hours.local_closures") for d in closures)
    return MonitoringHours(
        timezone=tz,
        weekdays=weekdays,
        start=start,
        end=end,
        calendar=calendar,
        local_closures=local,
        bank_holidays=calendar.dates() | local,
    )


def _calendar(section: Any) -> HolidayCalendar:
    where = "monitoring_hours.bank_holidays"
    if isinstance(section, list | tuple):
        # The old form: a hand-kept list of dates that runs out. Say what replaces it.
        raise ValueError(
            f"{where} is a calendar now, not a list of dates: give country (GB), subdiv (WLS) "
            "and years, and list the board's own closed days under monitoring_hours.local_closures"
        )
    _no_unknown_keys(section, _CALENDAR_KEYS, where)
    default = HolidayCalendar()
    country = section.get("country", default.country)
    subdiv = section.get("subdiv", default.subdiv)
    years = _sequence(section.get("years", (default.first_year, default.last_year)), where)
    if len(years) != 2 or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
        raise ValueError(f"{where}.years must be [first, last], two whole years")
    if not isinstance(country, str) or not (subdiv is None or isinstance(subdiv, str)):
        raise ValueError(f"{where}: country and subdiv must be codes such as GB and WLS")
    calendar = HolidayCalendar(country, subdiv, years[0], years[1])
    check_calendar(calendar)
    return calendar


def _clause_map(raw: Mapping[str, str], allowed: tuple[str, ...], what: str) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"clause {what}s must be a mapping of clause id to {what}")
    out: dict[str, str] = {}
    for clause, value in raw.items():
        if not isinstance(clause, str) or not clause:
            raise ValueError(f"clause {what}s: clause id {clause!r} must be a non-empty string")
        out[clause] = _one_of(value, allowed, f"clause '{clause}' {what}")
    return out


def _titles(raw: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for clause, title in raw.items():
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"clause '{clause}' title must be a non-empty string")
        out[clause] = title.strip()
    return out


def _one_of(value: Any, allowed: Iterable[str], where: str) -> str:
    options = tuple(allowed)
    if value not in options:
        raise ValueError(f"{where}: {value!r} is not one of {list(options)}")
    return str(value)


def _hours(section: Mapping[str, Any], key: str) -> float:
    value = section.get(key, 24)
    # bool is an int subclass; "true" working hours is a typo, not 1 hour.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1000:
        raise ValueError(f"enforcement.{key} must be a number of working hours in (0, 1000]")
    return float(value)


def _positive_int(section: Mapping[str, Any], key: str, default: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"enforcement.{key} must be a whole number of at least 1, got {value!r}")
    return value


def _text(section: Mapping[str, Any], key: str) -> str:
    value = section.get(key, DEFAULT_CONTACT)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"enforcement.{key} must be non-empty text shown to authors")
    return value.strip()


def _sequence(value: Any, where: str) -> tuple[Any, ...]:
    # The policy loader freezes YAML lists into tuples; plain lists come from tests and tools.
    if isinstance(value, str) or not isinstance(value, list | tuple | frozenset | set):
        raise ValueError(f"{where} must be a list")
    return tuple(value)


def _strings(section: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    values = _sequence(section.get(key, default), f"enforcement.{key}")
    for v in values:
        if not isinstance(v, str) or not v:
            raise ValueError(f"enforcement.{key}: {v!r} must be a non-empty string id")
    return values


def _behaviours(section: Mapping[str, Any], key: str, default: tuple[str, ...]) -> frozenset[str]:
    return frozenset(
        _one_of(v, BEHAVIOUR_KINDS, f"enforcement.{key}") for v in _strings(section, key, default)
    )


def _clock(value: Any, where: str) -> time:
    # YAML 1.1 reads an unquoted 09:00 as the integer 540 (sexagesimal); accept that form too.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    match = _HH_MM.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'{where} must be a 24-hour time "HH:MM", got {value!r}')
    return time(int(match.group(1)), int(match.group(2)))


def _iso_date(value: Any, where: str) -> date:
    # YAML reads an unquoted 2026-12-25 as a date already; a timestamp is not a holiday.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)")
