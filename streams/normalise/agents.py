"""normalise: platform JSON on comments.raw → Comment on comments.normalised, or a dead letter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust

from schemas.comment import Comment
from schemas.deadletter import DeadLetter
from streams.runtime import BadRecord, guarded

STAGE = "normalise"

Ingest = Callable[[bytes, str], Comment | DeadLetter]


def register(
    app: faust.App,
    *,
    raw: faust.TopicT,
    normalised: faust.TopicT,
    deadletter: faust.TopicT,
    ingest: Ingest,
    metrics: Any,
) -> None:
    async def handle(value: bytes, key: bytes | None, source: str) -> str:
        out = ingest(value, source)
        if isinstance(out, DeadLetter):
            raise BadRecord(out.reason, out.detail)
        await normalised.send(key=out.author_key.encode(), value=out.to_bytes())
        return "ok"

    @app.agent(raw, name=STAGE)
    async def normalise(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await guarded(
                event, stage=STAGE, handler=handle, deadletter=deadletter, metrics=metrics
            )
