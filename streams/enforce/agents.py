"""enforce: assessed Verdicts, deadline ticks and executor results → actions and decisions.

One table holds each author's enforcement state. Three co-partitioned inputs (all keyed by
author) write it, each inside its own stream so the table's changelog partition is known:
``comments.assessed`` (decide), ``behaviour.notices`` (campaigns found later),
``enforce.ticks`` (fire due deadlines), ``actions.results`` (learn what the executor did) and
``reviews`` (a person's decision from the moderator console).

Deadlines fire through ticks: a timer on each worker finds authors whose next deadline has
passed and sends a Tick keyed by the author; the tick agent then runs ``on_timer``. Each firing
is decided at the deadline itself, so when a tick arrives does not change what is decided.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import faust
import orjson

from schemas.action import Action, ActionResult, Decision, Tick
from schemas.codec import right_sized
from schemas.identity import ClusterMembership
from schemas.review import Review
from schemas.verdict import BehaviourNotice, Verdict
from streams.enforce.config import EnforcementConfig
from streams.enforce.logic import decide, on_behaviour, on_result, on_review, on_timer
from streams.enforce.state import AuthorState
from streams.runtime import decode, guarded

STAGE = "enforce"
TABLE = "enforcement"  # frozen once deployed
CLUSTERS_TABLE = "identity-clusters"


def link_evidence(membership: ClusterMembership, member: str) -> str:
    """Why ``member`` shares the action: the cluster, its weakest link, and the kinds of
    evidence on each edge (pseudonymous keys only)."""
    edges = "; ".join(
        f"{e.author_a[:8]}~{e.author_b[:8]} {e.score:.2f} ({', '.join(e.kinds)})"
        for e in membership.edges
    )
    return (
        f"cluster {membership.cluster_id} of {len(membership.members)} accounts, "
        f"score {membership.score:.2f}; links: {edges}; member {member[:8]}"
    )


def register(
    app: faust.App,
    *,
    assessed: faust.TopicT,
    notices: faust.TopicT,
    ticks: faust.TopicT,
    results: faust.TopicT,
    actions: faust.TopicT,
    decisions: faust.TopicT,
    deadletter: faust.TopicT,
    clusters: faust.TopicT,
    config: Callable[[], EnforcementConfig],
    partitions: int,
    metrics: Any,
    wall_clock_timers: bool = True,
    tick_interval_s: float = 5.0,
    reviews: faust.TopicT | None = None,
) -> None:
    table = app.Table(
        TABLE,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
    )
    # Every worker needs every account's cluster (a block on one member reaches members on
    # other partitions), so memberships go to a global table: small, only linked accounts.
    cluster_table = app.GlobalTable(
        CLUSTERS_TABLE, partitions=partitions, key_type=bytes, value_type=bytes
    )

    def linked_authors(author_key: str) -> list[tuple[str, str]]:
        stored = cluster_table.get(author_key.encode())
        if not stored:
            return []
        membership = ClusterMembership.from_bytes(stored)
        return [
            (member, link_evidence(membership, member))
            for member in membership.members
            if member != author_key
        ]

    # author key -> next deadline (event-time ms), for this worker's partitions. Rebuilt from
    # the table after every rebalance; updated on every write.
    deadlines: dict[str, int] = {}
    clock = {"watermark_ms": 0, "rescan": True}

    def load(author: bytes) -> AuthorState | None:
        stored = table.get(author)
        return AuthorState.from_dict(decode_json(stored)) if stored else None

    def store(author: bytes, state: AuthorState) -> None:
        if state.is_idle:
            table.pop(author, None)
        else:
            table[author] = right_sized(state.to_bytes())
        due = state.next_deadline_ms()
        if due is None:
            deadlines.pop(state.author_key, None)
        else:
            deadlines[state.author_key] = due

    async def emit(decided: Sequence[Decision], emitted: Sequence[Action]) -> None:
        for action in emitted:
            await actions.send(key=action.target_author.encode(), value=action.to_bytes())
            metrics.actions.labels(action.kind, "emitted").inc()
        for decision in decided:
            await decisions.send(key=decision.decision_id.encode(), value=decision.to_bytes())

    async def handle_verdict(value: bytes, key: bytes | None, source: str) -> str:
        verdict: Verdict = decode(Verdict, value)
        author_key = verdict.comment.author_key
        author = author_key.encode()
        clock["watermark_ms"] = max(clock["watermark_ms"], verdict.comment.event_time_ms)
        outcome = decide(load(author), verdict, config(), linked_authors=linked_authors(author_key))
        store(author, outcome.state)
        await emit([outcome.decision], outcome.actions)
        lag_s = time.time() - verdict.comment.event_time_ms / 1000
        if lag_s >= 0:
            metrics.end_to_end_seconds.observe(lag_s)
        return outcome.decision.outcome

    async def handle_tick(value: bytes, key: bytes | None, source: str) -> str:
        tick: Tick = decode(Tick, value)
        author = tick.author_key.encode()
        state = load(author)
        if state is None:
            deadlines.pop(tick.author_key, None)
            return "idle"
        follow = on_timer(state, tick.now_ms, config())
        store(author, follow.state)
        await emit(follow.decisions, follow.actions)
        return "fired" if follow.decisions else "nothing_due"

    async def handle_notice(value: bytes, key: bytes | None, source: str) -> str:
        notice: BehaviourNotice = decode(BehaviourNotice, value)
        author = notice.author_key.encode()
        follow = on_behaviour(load(author), notice, config())
        store(author, follow.state)
        await emit(follow.decisions, follow.actions)
        return "acted" if follow.actions else "nothing_to_do"

    async def handle_result(value: bytes, key: bytes | None, source: str) -> str:
        result: ActionResult = decode(ActionResult, value)
        author = result.target_author.encode()
        follow = on_result(load(author), result, config())
        store(author, follow.state)
        await emit(follow.decisions, follow.actions)
        return result.outcome

    async def handle_review(value: bytes, key: bytes | None, source: str) -> str:
        review: Review = decode(Review, value)
        author = review.author_key.encode()
        follow = on_review(load(author), review, source, config())
        store(author, follow.state)
        await emit(follow.decisions, follow.actions)
        return review.verb

    async def handle_cluster(value: bytes, key: bytes | None, source: str) -> str:
        membership: ClusterMembership = decode(ClusterMembership, value)
        if len(membership.members) > 1:
            cluster_table[membership.author_key.encode()] = value
        else:
            cluster_table.pop(membership.author_key.encode(), None)
        return "linked" if len(membership.members) > 1 else "unlinked"

    def agent(topic: faust.TopicT, name: str, handler: Any) -> None:
        async def run(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                await guarded(
                    event, stage=STAGE, handler=handler, deadletter=deadletter, metrics=metrics
                )

        run.__name__ = name
        app.agent(topic, name=name)(run)

    agent(assessed, STAGE, handle_verdict)
    agent(notices, f"{STAGE}-notices", handle_notice)
    agent(clusters, f"{STAGE}-clusters", handle_cluster)
    agent(ticks, f"{STAGE}-ticks", handle_tick)
    agent(results, f"{STAGE}-results", handle_result)
    if reviews is not None:
        agent(reviews, f"{STAGE}-reviews", handle_review)

    # mode's stub types want a plain callable; it awaits coroutine receivers all the same.
    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def _rescan_after_rebalance(sender: Any, *args: Any, **kwargs: Any) -> None:
        clock["rescan"] = True

    @app.timer(interval=tick_interval_s)  # type: ignore[untyped-decorator]
    async def fire_due_deadlines() -> None:
        if clock["rescan"] and cast(Any, app.tables).recovery.completed.is_set():
            deadlines.clear()
            for raw_key, stored in list(table.items()):
                due = AuthorState.from_dict(decode_json(stored)).next_deadline_ms()
                if due is not None:
                    deadlines[raw_key.decode()] = due
            clock["rescan"] = False
        # Live workers also let wall-clock time pass deadlines, or a quiet weekend would hold
        # every block; replay runs on event time alone.
        now_ms = clock["watermark_ms"]
        if wall_clock_timers:
            now_ms = max(now_ms, int(time.time() * 1000))
        due_authors = [a for a, due in deadlines.items() if due <= now_ms]
        for author_key in due_authors:
            await ticks.send(
                key=author_key.encode(), value=Tick(author_key=author_key, now_ms=now_ms).to_bytes()
            )
            deadlines.pop(author_key, None)  # re-added when the tick's write lands
        metrics.table_keys.labels(TABLE).set(len(table))


def decode_json(stored: bytes) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(stored)
    return value
