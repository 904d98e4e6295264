"""Which topics a finished run's cleanup may delete: its namespace's, nobody else's."""

from __future__ import annotations

import pytest

from workers.dev.local_run import keep_topics
from workers.topic_admin import namespace_topics

TOPICS = [
    "run1.comments.raw",
    "run1.modstream-rate_windows-changelog",
    "run1.modstream-__assignor-__leader",
    "run12.comments.raw",  # another run whose name starts with ours
    "comments.raw",  # production layout: no namespace
    "__consumer_offsets",
]


def test_a_namespace_selects_its_own_and_faust_topics_only() -> None:
    assert namespace_topics(TOPICS, "run1") == [
        "run1.comments.raw",
        "run1.modstream-__assignor-__leader",
        "run1.modstream-rate_windows-changelog",
    ]


def test_the_empty_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="empty namespace"):
        namespace_topics(TOPICS, "")


@pytest.mark.parametrize(
    ("value", "keep"), [("1", True), ("true", True), ("", False), ("0", False), (None, False)]
)
def test_keep_topics_is_opt_in(value: str | None, keep: bool) -> None:
    env = {} if value is None else {"MODSTREAM_KEEP_TOPICS": value}
    assert keep_topics(env) is keep
