"""rate windows, two agents.

``rate_windows`` (keyed by author): Verdict on comments.verdicts → the same Verdict with the
author's behaviour findings on comments.assessed, and one fan-out message per fingerprint slice
on rate_windows.bands. Per-author window state lives in a changelog-backed table keyed like the
input topic: partition-local, and it survives a worker restart.

``rate_windows-bands`` (keyed by fingerprint slice): near-copies from different accounts meet
on a slice key. Each comment that becomes part of a campaign (enough accounts, short window)
gets one BehaviourNotice about itself, routed to its author's partition on behaviour.notices;
the notice is a function of the comment alone (streams.rate_windows.campaign), so the slices
that each find it say the same bytes. Each pair of accounts becomes a link signal for the
sock-puppet stage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
import orjson

from schemas.codec import replace, right_sized
from schemas.verdict import Verdict
from streams.rate_windows.band_states import BandStates
from streams.rate_windows.campaign import campaign_notice
from streams.rate_windows.config import WindowConfig
from streams.rate_windows.cross_author import (
    BandEntry,
    LinkEvidence,
    band_entries,
    observe_band,
)
from streams.rate_windows.logic import AuthorWindows, observe
from streams.runtime import decode, guarded, wall_ms

STAGE = "rate_windows"
BANDS_STAGE = "rate_windows_bands"
TABLE = "rate-windows"  # frozen once deployed: the changelog topic is named after it
BANDS_TABLE = "rate-window-bands"

# (evidence, policy version, event time) -> awaitable send to the sock-puppet stage
LinkSink = Callable[[LinkEvidence, str, int], Any]


def register(
    app: faust.App,
    *,
    verdicts: faust.TopicT,
    assessed: faust.TopicT,
    bands: faust.TopicT,
    notices: faust.TopicT,
    deadletter: faust.TopicT,
    config: Callable[[], tuple[str, WindowConfig]],
    on_link: LinkSink | None,
    partitions: int,
    metrics: Any,
) -> None:
    table = app.Table(TABLE, partitions=partitions, key_type=bytes, value_type=bytes)
    band_table = app.Table(BANDS_TABLE, partitions=partitions, key_type=bytes, value_type=bytes)
    band_states = BandStates(band_table)

    async def handle(value: bytes, key: bytes | None, source: str) -> str:
        verdict: Verdict = decode(Verdict, value)
        _, cfg = config()
        comment = verdict.comment
        author = comment.author_key.encode()
        stored = table.get(author)
        state = AuthorWindows.from_dict(orjson.loads(stored)) if stored else AuthorWindows()
        new_state, findings, stats = observe(state, verdict, cfg)
        table[author] = right_sized(orjson.dumps(new_state.to_dict()))
        if stats.late:
            metrics.late_events.labels(STAGE).inc()
        out = replace(verdict, behaviour=findings) if findings else verdict
        await assessed.send(key=author, value=out.to_bytes())
        if not stats.duplicate:
            for entry in band_entries(
                stats.fingerprint,
                comment.author_key,
                comment.comment_id,
                comment.event_time_ms,
                cfg,
                source=comment.source,
            ):
                await bands.send(key=entry.key.encode(), value=entry.to_bytes())
        return "behaviour" if findings else "ok"

    async def handle_band(value: bytes, key: bytes | None, source: str) -> str:
        entry: BandEntry = decode(BandEntry, value)
        version, cfg = config()
        band_key = entry.key.encode()
        state = band_states.get(band_key)
        # The wall clock only keeps posts longer (partitions interleave); it decides nothing.
        new_state, outcome = observe_band(state, entry, cfg, wall_ms=wall_ms())
        band_states.put(band_key, new_state)
        if outcome.late:
            metrics.late_events.labels(BANDS_STAGE).inc()
        if on_link is not None:
            for link in outcome.links:
                await on_link(link, version, entry.event_time_ms)
        for member in outcome.members:
            notice = campaign_notice(member, version, cfg)
            await notices.send(key=member.author_key.encode(), value=notice.to_bytes())
        return "campaign" if outcome.members else "ok"

    @app.agent(verdicts, name=STAGE)
    async def rate_windows(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await guarded(
                event, stage=STAGE, handler=handle, deadletter=deadletter, metrics=metrics
            )

    @app.agent(bands, name=BANDS_STAGE)
    async def rate_window_bands(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            await guarded(
                event,
                stage=BANDS_STAGE,
                handler=handle_band,
                deadletter=deadletter,
                metrics=metrics,
            )
