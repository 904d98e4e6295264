"""linking: comments → index keys → link signals → one identity graph → cluster memberships.

Three hops, each keyed so its state is partition-local:
1. ``linking-index-fanout`` (on comments.normalised, keyed by author) files each comment under
   its index keys (shared device hash, post replied to, handle stem, display name) on
   identity.index, keyed by index key;
2. ``linking-index`` (keyed by index key) keeps each key's recent entries in a table and emits
   a LinkSignal for each pair of accounts the key connects (the cross-author near-copies of the
   rate-windows stage arrive on identity.signals too);
3. ``linking-graph`` consumes identity.signals, a single-partition topic, so one worker holds
   the whole identity graph: clusters are connected components, which no partitioning of
   accounts can compute locally. The graph is a pure fold over the signals, so it is rebuilt
   on start by reading identity.signals from the beginning (retained for the edge expiry
   period) up to the group's committed offset; no separate store can drift from it.
Changed memberships go to identity.clusters (keyed by author, compacted), which the enforce
stage reads into a global table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import faust
import orjson

from schemas.codec import right_sized
from schemas.comment import Comment
from schemas.identity import LinkSignal
from streams.linking.config import LinkingConfig
from streams.linking.graph import IdentityGraph
from streams.linking.signals import KeyState, index_keys, observe_key
from streams.runtime import decode, guarded

STAGE = "linking"
INDEX_TABLE = "linking-index"

# Replays identity.signals from the start up to the committed offset, yielding raw values.
SignalHistory = Callable[[], Awaitable[list[bytes]]]


def register(
    app: faust.App,
    *,
    normalised: faust.TopicT,
    index: faust.TopicT,
    signals: faust.TopicT,
    clusters: faust.TopicT,
    deadletter: faust.TopicT,
    config: Callable[[], LinkingConfig],
    history: SignalHistory,
    partitions: int,
    metrics: Any,
) -> None:
    index_table = app.Table(INDEX_TABLE, partitions=partitions, key_type=bytes, value_type=bytes)
    graph_holder: dict[str, IdentityGraph] = {}

    async def fan_out(value: bytes, key: bytes | None, source: str) -> str:
        comment: Comment = decode(Comment, value)
        for index_key in index_keys(comment):
            await index.send(key=index_key.encode(), value=value)
        return "ok"

    async def observe(value: bytes, key: bytes | None, source: str) -> str:
        comment: Comment = decode(Comment, value)
        index_key = (key or b"").decode()
        stored = index_table.get(index_key.encode())
        state = KeyState.from_dict(orjson.loads(stored)) if stored else KeyState()
        new_state, found = observe_key(state, index_key, comment, config())
        index_table[index_key.encode()] = right_sized(orjson.dumps(new_state.to_dict()))
        for signal in found:
            await signals.send(key=b"graph", value=signal.to_bytes())
        return "signal" if found else "ok"

    async def graph() -> IdentityGraph:
        if "graph" not in graph_holder:
            rebuilt = IdentityGraph(config())
            for raw in await history():
                rebuilt.add(LinkSignal.from_bytes(raw))
            graph_holder["graph"] = rebuilt
        return graph_holder["graph"]

    async def link(value: bytes, key: bytes | None, source: str) -> str:
        signal: LinkSignal = decode(LinkSignal, value)
        changed = (await graph()).add(signal)
        for membership in changed:
            await clusters.send(key=membership.author_key.encode(), value=membership.to_bytes())
        metrics.table_keys.labels("identity-graph").set((await graph()).account_count)
        return "clusters_changed" if changed else "ok"

    def agent(topic: faust.TopicT, name: str, handler: Any) -> None:
        async def run(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.events():
                await guarded(
                    event, stage=STAGE, handler=handler, deadletter=deadletter, metrics=metrics
                )

        app.agent(topic, name=name)(run)

    agent(normalised, "linking-index-fanout", fan_out)
    agent(index, "linking-index", observe)
    agent(signals, "linking-graph", link)

    # mode's stub types want a plain callable; it awaits coroutine receivers all the same.
    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def _forget_graph(sender: Any, *args: Any, **kwargs: Any) -> None:
        # Whoever holds the signals partition now rebuilds from the log.
        graph_holder.clear()
