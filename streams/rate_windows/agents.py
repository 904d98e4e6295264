"""rate windows: Verdict on comments.verdicts → the same Verdict with behaviour findings on
comments.assessed. Per-author window state lives in a changelog-backed table keyed like the
input topic, so it is partition-local and survives a worker restart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import faust
import orjson

from schemas.verdict import Verdict
from streams.rate_windows.config import WindowConfig
from streams.rate_windows.logic import AuthorWindows, observe
from streams.runtime import decode, guarded

STAGE = "rate_windows"
TABLE = "rate-windows"  # frozen once deployed: the changelog topic is named after it


def register(
    app: faust.App,
    *,
    verdicts: faust.TopicT,
    assessed: faust.TopicT,
    deadletter: faust.TopicT,
    config: Callable[[], WindowConfig],
    partitions: int,
    metrics: Any,
) -> faust.Table:
    table = app.Table(
        TABLE,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
    )

    async def handle(value: bytes, key: bytes | None, source: str) -> str:
        verdict: Verdict = decode(Verdict, value)
        author = verdict.comment.author_key.encode()
        stored = table.get(author)
        state = AuthorWindows.from_dict(orjson.loads(stored)) if stored else AuthorWindows()
        new_state, findings, stats = observe(state, verdict, config())
        table[author] = orjson.dumps(new_state.to_dict())
        if stats.late:
            metrics.late_events.labels(STAGE).inc()
        out = replace(verdict, behaviour=findings) if findings else verdict
        await assessed.send(key=author, value=out.to_bytes())
        return "behaviour" if findings else "ok"

    @app.agent(verdicts, name=STAGE)
    async def rate_windows(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await guarded(
                event, stage=STAGE, handler=handle, deadletter=deadletter, metrics=metrics
            )

    return table
