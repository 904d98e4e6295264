"""Random runs of verdicts, timers and executor results against the policy's promises.

One author, a handful of comments. The steps are weighted towards what moves the ladder
(deadlines passing, the author removing a post), so runs reach notices and blocks often.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.action import Action, ActionResult, Decision
from schemas.verdict import BehaviourFinding, Verdict
from streams.enforce.logic import FollowUp, on_result, on_timer
from streams.enforce.state import AuthorState

from .enforce_builders import config, decide_linked, inflammatory, london, spamming, verdict

# Retention longer than any run, so a redelivered verdict always finds its case.
CFG = config(closed_case_retention_days=365)
START = london(2026, 6, 1, 8)
AUTHOR = "author-a"
CLAUSES = (
    "abusive",
    "obscene",
    "allegation",
    "hate",
    "spamming",
    "trolling",
    "personal_care",
    "emergency",
    "safeguarding",
)
LADDER_STEPS = frozenset({"reply_ask_removal", "notice_of_block"})

_minutes = st.one_of(
    st.integers(min_value=0, max_value=180),
    st.sampled_from((24 * 60, 3 * 24 * 60, 8 * 24 * 60)),
)
_clauses = st.one_of(
    st.just(["abusive"]),
    st.lists(st.sampled_from(CLAUSES), max_size=3, unique=True),
)
_verdict = st.tuples(
    st.just("verdict"),
    _clauses,
    st.sampled_from(("none", "none", "none", "spam", "inflammatory")),
    st.booleans(),  # with a linked account
    _minutes,
)
_comment = st.integers(min_value=0, max_value=5)
_steps = st.lists(
    st.one_of(
        _verdict,
        _verdict,
        st.tuples(st.just("redeliver"), _comment),
        st.tuples(st.just("timer"), _minutes),
        st.tuples(st.just("next_deadline")),
        st.tuples(st.just("next_deadline")),
        st.tuples(st.just("next_deadline")),
        st.tuples(st.just("post_removed"), _comment),
        st.tuples(st.just("post_removed"), _comment),
        st.tuples(
            st.just("report"),
            _comment,
            st.sampled_from(("done", "failed", "author_replied", "duplicate")),
        ),
    ),
    max_size=40,
)


def behaviour(kind: str, at: int, comment_id: str) -> tuple[BehaviourFinding, ...]:
    if kind == "spam":
        return (spamming(at),)
    if kind == "inflammatory":
        return (inflammatory(at, comment_id),)
    return ()


@dataclass
class Run:
    state: AuthorState | None = None
    now: int = START
    verdicts: list[Verdict] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    decision_ids: set[str] = field(default_factory=set)
    posts_gone: set[str] = field(default_factory=set)
    noticed: set[str] = field(default_factory=set)
    # Comments whose request (or notice) the executor last reported as not delivered.
    undelivered: dict[str, set[str]] = field(default_factory=dict)
    # Per verdict: the linked accounts it was decided with, and the bytes it was decided to.
    first: list[tuple[list[tuple[str, str]], list[bytes]]] = field(default_factory=list)
    # Every linked account's block decision, by id: sent again, it must be the same bytes.
    linked_blocks: dict[str, bytes] = field(default_factory=dict)

    def new_verdict(self, clauses: list[str], kind: str, linked: bool, dt: int) -> None:
        self.now += dt * 60_000
        comment_id = f"facebook:c{len(self.verdicts)}"
        v = verdict(
            self.now,
            *clauses,
            comment_id=comment_id,
            behaviour=behaviour(kind, self.now, comment_id),
            offset=len(self.verdicts),
        )
        self.verdicts.append(v)
        links = [("author-b", "shared device")] if linked else []
        out, reached = decide_linked(self.state, v, CFG, links)
        self.first.append((links, [out.decision.to_bytes(), *(a.to_bytes() for a in out.actions)]))
        # Exactly one decision per verdict, about that comment, never seen before.
        assert out.decision.comment_id == comment_id
        assert out.decision.decision_id not in self.decision_ids
        self.decision_ids.add(out.decision.decision_id)
        self.state = reached.state
        self.check((out.decision,), out.actions)
        self.reached(reached)

    def redeliver(self, index: int) -> None:
        v = self.verdicts[index % len(self.verdicts)]
        links, first = self.first[index % len(self.verdicts)]
        out, reached = decide_linked(self.state, v, CFG, links)
        # The same comment and policy version: the same decision and actions as the first
        # time, byte for byte, whatever happened to the author since.
        assert out.decision.comment_id == v.comment.comment_id
        assert out.decision.decision_id in self.decision_ids
        assert [out.decision.to_bytes(), *(a.to_bytes() for a in out.actions)] == first
        self.state = reached.state
        self.check((out.decision,), out.actions)
        self.reached(reached)

    def reached(self, follow: FollowUp) -> None:
        """Linked accounts' blocks: one decision per (block, account), the same bytes each
        time it is sent, one block action each."""
        for decision in follow.decisions:
            assert decision.trigger == "linked_block" and decision.action_kinds == (
                "block_account",
            )
            first = self.linked_blocks.setdefault(decision.decision_id, decision.to_bytes())
            assert decision.to_bytes() == first
        assert all(a.linked_evidence for a in follow.actions)
        self.check(follow.decisions, follow.actions)

    def tick(self) -> None:
        assert self.state is not None
        self.follow(on_timer(self.state, self.now, CFG))

    def report(self, comment_index: int, outcome: str) -> None:
        # The executor reports on the latest action it attempted on one of the comments.
        comment_id = self.verdicts[comment_index % len(self.verdicts)].comment.comment_id
        about = [a for a in self.actions if a.target_comment == comment_id]
        if not about or about[-1].target_author != AUTHOR:
            return
        action = about[-1]
        if outcome == "post_already_deleted":
            self.posts_gone.add(comment_id)
        if action.kind in LADDER_STEPS and outcome in ("failed", "done"):
            failed = self.undelivered.setdefault(action.kind, set())
            (failed.add if outcome == "failed" else failed.discard)(comment_id)
        report = ActionResult(
            action_id=action.action_id,
            kind=action.kind,
            target_author=AUTHOR,
            target_comment=comment_id,
            outcome=outcome,
            detail="",
            at_ms=self.now,
        )
        self.follow(on_result(self.state, report, CFG))

    def follow(self, follow: FollowUp) -> None:
        for decision in follow.decisions:
            assert decision.decision_id not in self.decision_ids
            self.decision_ids.add(decision.decision_id)
        self.state = follow.state
        self.check(follow.decisions, follow.actions)

    def check(self, decisions: tuple[Decision, ...], actions: tuple[Action, ...]) -> None:
        by_decision = {d.decision_id: d for d in decisions}
        seen = {a.action_id for a in self.actions}
        for action in actions:
            assert action.action_id in by_decision[action.decision_id].action_ids
            if action.action_id in seen:
                continue  # a redelivery repeats an action by its id; the executor drops it
            ladder_block = action.kind == "block_account" and action.target_comment
            if action.kind in LADDER_STEPS or ladder_block:
                # Never chase, warn or block over a post the author has removed.
                assert action.target_comment not in self.posts_gone, action.kind
            if action.kind == "notice_of_block":
                # Never escalate past a request the author did not receive.
                assert action.target_comment not in self.undelivered.get("reply_ask_removal", ())
                self.noticed.add(action.target_comment)
            if ladder_block:
                # "We will let you know before we do this."
                assert action.target_comment in self.noticed
                assert action.target_comment not in self.undelivered.get("notice_of_block", ())
        self.actions.extend(actions)
        assert self.state is not None
        assert AuthorState.from_bytes(self.state.to_bytes()) == self.state


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(steps=_steps)
def test_random_runs_keep_the_policy_promises(steps: list[tuple[object, ...]]) -> None:
    run = Run()
    for step in steps:
        match step:
            case ("verdict", list(clauses), str(kind), bool(linked), int(dt)):
                run.new_verdict(clauses, kind, linked, dt)
            case _ if not run.verdicts:
                continue  # nothing has happened yet for the other steps to act on
            case ("redeliver", int(index)):
                run.redeliver(index)
            case ("timer", int(dt)):
                run.now += dt * 60_000
                run.tick()
            case ("next_deadline",):
                assert run.state is not None
                run.now = max(run.now, run.state.next_deadline_ms() or run.now)
                run.tick()
            case ("post_removed", int(index)):
                run.report(index, "post_already_deleted")
            case ("report", int(index), str(outcome)):
                run.report(index, outcome)
