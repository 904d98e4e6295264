from types import MappingProxyType
from typing import Any

import pytest

from streams.rate_windows.config import (
    DEFAULT_INFLAMMATORY_CLAUSES,
    CrossAuthorConfig,
    WindowConfig,
    WindowSpec,
    from_dict,
)


def test_an_empty_section_gives_the_documented_defaults() -> None:
    cfg = from_dict({})
    assert cfg == WindowConfig()
    assert [w.size_s for w in cfg.windows] == [600, 3600, 86_400]
    assert cfg.windows[0].spamming == 3 and cfg.windows[1].spamming == 5
    assert cfg.windows[1].inflammatory == 3 and cfg.windows[2].inflammatory == 5
    assert cfg.allowed_lateness_s == 300
    assert cfg.redelivery_memo_posts == 64
    assert [ms for _, ms in cfg.bucket_sizes] == [60_000, 360_000, 8_640_000]
    assert {
        "abusive",
        "intimidation",
        "naming_to_harass",
        "hate",
        "obscene",
        "discriminatory",
        "misleading",
        "trolling",
        "obstructing_staff",
        "allegation",
    } == DEFAULT_INFLAMMATORY_CLAUSES


def test_a_frozen_policy_section_is_read_and_windows_sorted() -> None:
    # The policy loader hands sections over as read-only mappings and tuples.
    section = MappingProxyType(
        {
            "windows": (
                MappingProxyType({"size_s": 3600, "spamming": 4, "inflammatory": None}),
                MappingProxyType({"size_s": 300, "flooding": 8}),
            ),
            "buckets_per_window": 6,
            "allowed_lateness_s": 0,
            "redelivery_memo_posts": 8,
            "inflammatory_clauses": ("hate", "abusive"),
            "cross_author": MappingProxyType({"min_authors": 3, "bands": 4}),
        }
    )
    cfg = from_dict(section)
    assert cfg.windows == (WindowSpec(300, flooding=8), WindowSpec(3600, spamming=4))
    assert cfg.buckets_per_window == 6
    assert cfg.allowed_lateness_s == 0
    assert cfg.redelivery_memo_posts == 8
    assert cfg.inflammatory_clauses == {"hate", "abusive"}
    assert cfg.cross_author == CrossAuthorConfig(min_authors=3, bands=4)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"windwos": []}, r"rate_windows: unknown keys \['windwos'\]"),
        ({"allowed_lateness_s": -1}, r"rate_windows.allowed_lateness_s must be a whole number ≥ 0"),
        ({"max_evidence": True}, r"rate_windows.max_evidence must be a whole number ≥ 1, got True"),
        ({"redelivery_memo_posts": 0}, r"rate_windows.redelivery_memo_posts must be a whole"),
        ({"near_duplicate_max_distance": 40}, r"between 0 and 24, got 40"),
        ({"windows": []}, r"rate_windows.windows is empty"),
        ({"windows": "600"}, r"rate_windows.windows must be a list, got str"),
        ({"windows": [{"flooding": 3}]}, r"rate_windows.windows\[0\].size_s is missing"),
        ({"windows": [{"size_s": 60, "flooding": 0}]}, r"windows\[0\].flooding must be"),
        ({"windows": [{"size_s": 60, "spam": 3}]}, r"windows\[0\]: unknown keys \['spam'\]"),
        ({"windows": [{"size_s": 60}, {"size_s": 60}]}, r"size_s values \[60, 60\] must be"),
        ({"buckets_per_window": 7}, r"size_s 600\) does not split into 7 whole-millisecond"),
        (
            {"max_recent_posts": 4},
            r"spamming = 5 exceeds max_recent_posts = 4",
        ),
        ({"inflammatory_clauses": "hate"}, r"inflammatory_clauses must be a list"),
        ({"inflammatory_clauses": ["hate", ""]}, r"inflammatory_clauses: '' must be a clause id"),
        ({"cross_author": []}, r"rate_windows.cross_author must be a mapping, got list"),
        ({"cross_author": {"bands": 32}}, r"cross_author.bands must be a whole number between"),
        ({"cross_author": {"min_authors": 1}}, r"cross_author.min_authors must be"),
        (
            {"cross_author": {"min_authors": 9, "max_posts_per_band": 8}},
            r"min_authors = 9 exceeds max_posts_per_band = 8",
        ),
    ],
)
def test_bad_sections_name_the_field_to_fix(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_dict(section)
