"""classify: Comment on comments.normalised → Verdict on comments.verdicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import faust

from schemas.comment import Comment
from schemas.verdict import Verdict
from streams.runtime import decode, guarded

STAGE = "classify"


class ClassifierLike(Protocol):
    def verdict(self, comment: Comment, policy_version: str) -> Verdict: ...


# Returns (policy version, classifier) as of now: the policy can be swapped while running.
CurrentClassifier = Callable[[], tuple[str, ClassifierLike]]


def register(
    app: faust.App,
    *,
    normalised: faust.TopicT,
    verdicts: faust.TopicT,
    deadletter: faust.TopicT,
    current: CurrentClassifier,
    metrics: Any,
) -> None:
    async def handle(value: bytes, key: bytes | None, source: str) -> str:
        comment: Comment = decode(Comment, value)
        version, classifier = current()
        verdict = classifier.verdict(comment, version)
        await verdicts.send(key=comment.author_key.encode(), value=verdict.to_bytes())
        for clause in verdict.clauses:
            metrics.verdicts.labels(clause).inc()
        return "flagged" if verdict.findings else "clean"

    @app.agent(normalised, name=STAGE)
    async def classify(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await guarded(
                event, stage=STAGE, handler=handle, deadletter=deadletter, metrics=metrics
            )
