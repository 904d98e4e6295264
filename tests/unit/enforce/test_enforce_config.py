"""Enforcement config: the shipped defaults load, and every bad value is refused by name."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from types import MappingProxyType
from typing import Any

import pytest

from streams.enforce.config import EnforcementConfig, config_digest, from_dict

from .enforce_builders import PROCEDURES, SEVERITIES, default_sections


def test_default_yaml_gives_the_policy_defaults() -> None:
    enforcement, monitoring = default_sections()
    cfg = from_dict(enforcement, monitoring, PROCEDURES, SEVERITIES)
    assert cfg.reply_deadline_hours == 24
    assert cfg.notice_deadline_hours == 24
    assert cfg.immediate_block_behaviours == {"frequent_inflammatory"}
    assert cfg.spam_behaviours == {"spamming", "cross_author_spamming"}
    assert cfg.monitoring.timezone == "Europe/London"
    assert cfg.monitoring.weekdays == {0, 1, 2, 3, 4}
    assert (cfg.monitoring.start, cfg.monitoring.end) == (time(9), time(17))
    assert date(2026, 12, 28) in cfg.monitoring.bank_holidays
    assert cfg.procedure("allegation") == "immediate_removal"
    assert "patient experience team" in cfg.patient_experience_contact


def test_empty_sections_fall_back_to_defaults() -> None:
    cfg = from_dict({}, {}, {}, {})
    assert cfg == EnforcementConfig()
    # A clause enforcement does not know goes to a person.
    assert cfg.procedure("anything_new") == "review"


def test_frozen_sections_from_the_policy_loader_are_accepted() -> None:
    # The policy loader hands sections over as read-only mappings and tuples.
    cfg = from_dict(
        MappingProxyType({"under_investigation": ("facebook:p9",)}),
        MappingProxyType(
            {
                "days": ("mon", "wed"),
                "bank_holidays": MappingProxyType({"country": "GB", "years": (2026, 2026)}),
                "local_closures": (date(2026, 1, 2),),
            }
        ),
        MappingProxyType(PROCEDURES),
        MappingProxyType(SEVERITIES),
    )
    assert cfg.under_investigation == {"facebook:p9"}
    assert cfg.monitoring.weekdays == {0, 2}
    assert {date(2026, 1, 1), date(2026, 1, 2)} <= cfg.monitoring.bank_holidays
    assert {d.year for d in cfg.monitoring.bank_holidays} == {2026}


def test_unquoted_yaml_clock_is_understood() -> None:
    # YAML 1.1 reads 09:00 unquoted as 540 (minutes); it still means nine o'clock.
    cfg = from_dict({}, {"start": 540, "end": 1020}, {}, {})
    assert (cfg.monitoring.start, cfg.monitoring.end) == (time(9), time(17))


@pytest.mark.parametrize(
    ("enforcement", "monitoring", "procedures", "severities", "message"),
    [
        ({"reply_deadline": 24}, {}, {}, {}, "unknown keys"),
        ({}, {"timezone": "Mars/Olympus"}, {}, {}, "not an IANA time zone"),
        ({}, {"start": "17:00", "end": "09:00"}, {}, {}, "must be before end"),
        ({}, {"start": "9am"}, {}, {}, "HH:MM"),
        ({}, {"days": []}, {}, {}, "at least one day"),
        ({}, {"days": ["monday"]}, {}, {}, "monitoring_hours.days"),
        ({}, {"local_closures": ["25/12/2026"]}, {}, {}, "ISO date"),
        ({}, {"local_closures": "2026-12-25"}, {}, {}, "must be a list"),
        ({}, {"bank_holidays": ["2026-12-25"]}, {}, {}, "is a calendar now"),
        ({}, {"bank_holidays": {"subdiv": "XX"}}, {}, {}, "subdiv 'XX'"),
        ({}, {"bank_holidays": {"country": "Narnia"}}, {}, {}, "country 'Narnia'"),
        ({}, {"bank_holidays": {"years": [2030, 2020]}}, {}, {}, "is after"),
        ({}, {"bank_holidays": {"region": "WLS"}}, {}, {}, "unknown keys"),
        ({"reply_deadline_working_hours": -1}, {}, {}, {}, "reply_deadline_working_hours"),
        ({"notice_deadline_working_hours": True}, {}, {}, {}, "notice_deadline_working_hours"),
        ({"notice_deadline_working_hours": "24"}, {}, {}, {}, "notice_deadline_working_hours"),
        ({"under_investigation": [""]}, {}, {}, {}, "under_investigation"),
        ({"spam_behaviours": ["spaming"]}, {}, {}, {}, "spam_behaviours"),
        (
            {"spam_behaviours": ["frequent_inflammatory"]},
            {},
            {},
            {},
            "both as immediate_block_behaviours and spam_behaviours",
        ),
        ({"immediate_removal_severity": "severe"}, {}, {}, {}, "immediate_removal_severity"),
        ({"closed_case_retention_days": 0}, {}, {}, {}, "closed_case_retention_days"),
        ({"patient_experience_contact": " "}, {}, {}, {}, "patient_experience_contact"),
        ({}, {}, {"abusive": "shout"}, {}, "clause 'abusive' procedure"),
        ({}, {}, {}, {"hate": "extreme"}, "clause 'hate' severity"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    enforcement: dict[str, Any],
    monitoring: dict[str, Any],
    procedures: dict[str, str],
    severities: dict[str, str],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        from_dict(enforcement, monitoring, procedures, severities)


def test_titles_from_the_policy_file_are_kept() -> None:
    cfg = from_dict({}, {}, {}, {}, titles={"abusive": " Abusive or threatening "})
    assert cfg.titles["abusive"] == "Abusive or threatening"
    with pytest.raises(ValueError, match="title"):
        from_dict({}, {}, {}, {}, titles={"abusive": ""})


def test_bank_holidays_do_not_run_out() -> None:
    # The hand-kept list ended in 2027; the calendar keeps going.
    enforcement, monitoring = default_sections()
    cfg = from_dict(enforcement, monitoring, PROCEDURES, SEVERITIES)
    closed = cfg.monitoring.bank_holidays
    assert {date(2028, 12, 25), date(2028, 12, 26), date(2040, 12, 25)} <= closed
    assert date(2028, 1, 3) in closed  # New Year's Day on a Saturday: Monday is the holiday
    assert date(2028, 11, 30) not in closed  # St Andrew's Day is Scotland's, not Wales's


def test_the_digest_holds_the_resolved_dates() -> None:
    base = from_dict({}, {}, PROCEDURES, SEVERITIES)
    assert config_digest(base) == config_digest(from_dict({}, {}, PROCEDURES, SEVERITIES))
    closure = from_dict({}, {"local_closures": ["2028-12-27"]}, PROCEDURES, SEVERITIES)
    assert config_digest(closure) != config_digest(base)
    # Same section keys, another calendar: different dates, so a different digest.
    scotland = from_dict({}, {"bank_holidays": {"subdiv": "SCT"}}, PROCEDURES, SEVERITIES)
    assert config_digest(scotland) != config_digest(base)
    # A date moved (a package upgrade, a one-off bank holiday) changes the digest.
    moved = replace(
        base,
        monitoring=replace(
            base.monitoring, bank_holidays=base.monitoring.bank_holidays - {date(2028, 12, 26)}
        ),
    )
    assert config_digest(moved) != config_digest(base)
