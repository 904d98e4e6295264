"""A projection holding one case per lane that matters, built through the real decide()."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.action import Action, ActionResult
from schemas.comment import Comment
from schemas.identity import ClusterEdge, ClusterMembership
from schemas.verdict import Finding, Verdict
from streams.enforce.logic import decide
from tests.unit.enforce.enforce_builders import CFG, PROCEDURES, london
from workers.console.projection import Projection, case_id_of

NOW = london(2026, 6, 2, 10, 30)  # a Tuesday, inside monitoring hours
POSTED = london(2026, 6, 2, 10, 0)  # 30 minutes before NOW

TEXTS = {
    "emergency": "I am going to end it all tonight, nobody at the ward listens",
    "safeguarding": "the little one next door is left alone every night",
    "spamming": "BUY CHEAP PILLS at pills.example, BUY CHEAP PILLS",
    "trolling": "nobody cares about your clinic opening times lol",
}
SPANS = {
    "emergency": (5, 24),
    "safeguarding": (4, 14),
    "spamming": (0, 15),
    "trolling": (0, 14),
}


def comment(clause: str, at_ms: int) -> Comment:
    return Comment(
        comment_id=f"facebook:{clause}-1",
        platform="facebook",
        author_key=f"author-{clause}",
        author_name="A Person",
        author_handle="",
        post_id="facebook:p1",
        post_text="",
        event_time_ms=at_ms,
        text=TEXTS[clause],
        normalised=TEXTS[clause].lower(),
        lang="en",
        source="comments.raw[0]@1",
    )


@dataclass
class Built:
    projection: Projection
    actions: dict[str, list[Action]] = field(default_factory=dict)

    def case_id(self, clause: str) -> str:
        return case_id_of(f"facebook:{clause}-1")


def build(*, with_cluster: bool = True, posted: int = POSTED, now: int = NOW) -> Built:
    projection = Projection(procedures=PROCEDURES, monitoring=CFG.monitoring)
    built = Built(projection)
    for clause, (start, end) in SPANS.items():
        note = comment(clause, posted)
        finding = Finding(clause, f"pattern.{clause}", start, end, 0.9, "high", "")
        outcome = decide(None, Verdict(note, (finding,), "policy-v1"), CFG)
        projection.add_comment(note)
        projection.add_decision(outcome.decision)
        for action in outcome.actions:
            projection.add_action(action)
            if action.due_at_ms <= now:
                projection.add_result(
                    ActionResult(
                        action.action_id,
                        action.kind,
                        action.target_author,
                        action.target_comment,
                        "done",
                        "dry-run: recorded",
                        posted + 1000,
                    )
                )
        built.actions[clause] = list(outcome.actions)
    if with_cluster:
        edge = ClusterEdge("author-spamming", "author-twin", 0.91, ("near_duplicate",))
        members = ("author-spamming", "author-twin")
        projection.add_cluster(
            ClusterMembership("c1", "author-spamming", members, (edge,), 0.91, POSTED)
        )
    return built
