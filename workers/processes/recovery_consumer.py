"""A Faust consumer that cannot skip input records while a restarted worker resumes.

Two holes in Faust 0.15 (aiokafka driver), both hit by tests/integration/test_faults.py's
kill -9 test; docs/benchmarks.md, "Fault tolerance", has the traces.

**Records delivered before recovery's seek are cleared, then skipped.** After a restart that
restores table state (any worker but the very first), ``Recovery.on_recovery_completed``
(faust/tables/recovery.py) does, in order:

1. ``consumer.resume_partitions(<input partitions>)``: the fetcher, already running for the
   changelog restore, starts delivering input records to the agents' queues at once;
2. ``await consumer.perform_seek()``: a broker round trip, during which agents process some of
   those records; at its end each input partition's read offset is reset to the committed
   offset and the client is seeked back there;
3. ``app.flow_control.resume()``: which *clears every agent's queue*, dropping the records
   delivered in step 1 but not yet processed.

The seek is meant to bring them back, but a fetch from before it is still being drained: its
next record is far past the just-reset read offset, so ``Consumer._drain_messages`` records
the offsets in between as a "gap" (treated as acked by ``Consumer._new_offset``), moves the
read offset past them and then discards the re-fetched copies as already read.

**Records for paused partitions are fetched and dropped.** Faust hands the consumer thread
its live set of active partitions, and aiokafka's ``fetched_records`` returns records of
*every* partition when that set is empty by the time the fetch runs (recovery empties it when
it pauses the changelogs). ``Consumer.getmany`` then drops the records of partitions that are
not active, without a word, while the client's position has moved past them. A later seek to
the committed offset hides this, but not after the seek, and aiokafka does not seek at all a
partition whose committed offset is 0 or none.

Either way the records are never processed: the next commit passes them (an input silently
lost), or, where no gap covers them, the partition's commits stall on them until the next
restart. The fix: input partitions stay paused from recovery's ``resume_partitions`` until the
``resume_flow()`` that follows the seek and the queue clear, and each fetch gets a copy of the
active set, so aiokafka returns only partitions that were active when it was asked. Upstream:
faust-streaming/faust#606 and #707 are about commits past unprocessed messages (the
``_new_offset`` head-gap guard); these two paths are not covered there.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

import faust
from faust.transport.consumer import RecordMap, ensure_TPset
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)


class RecoverySafeConsumer(faust_aiokafka.Consumer):
    """Holds input partitions until recovery's seek is done; fetches what it asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_for_seek: set[TP] = set()
        self._seeked_since_hold = False

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        tpset = ensure_TPset(tps)
        inputs = {tp for tp in tpset if not self._is_changelog_tp(tp)}
        if inputs:
            # Only Recovery resumes input partitions, and always right before perform_seek.
            self._held_for_seek |= inputs
            self._seeked_since_hold = False
        super().resume_partitions(tpset - inputs)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        # At rebalance time only, never per record: how many input records this worker had
        # taken and not acknowledged as partitions go (a batch in the main line's take
        # buffer, or in its body). Faust waits for them to be acknowledged before the handover
        # (``stream_wait_empty``); tests/integration/test_rebalance.py reads this line to know
        # a rebalance met a buffered batch.
        in_flight = Counter(
            m.tp
            for m in list(self._unacked_messages)
            if m.tp in revoked and not self._is_changelog_tp(m.tp)
        )
        if in_flight:
            log.info(
                "revoking %d partitions with %d input records taken and not acknowledged, "
                "on %d of them",
                len(revoked),
                sum(in_flight.values()),
                len(in_flight),
            )
        await super().on_partitions_revoked(revoked)

    async def perform_seek(self) -> None:
        await super().perform_seek()
        self._seeked_since_hold = True

    def resume_flow(self) -> None:
        super().resume_flow()
        # Recovery calls this right after flow_control.resume() has cleared the agents'
        # queues, with no await in between: from here on a delivered record stays queued.
        if self._held_for_seek and self._seeked_since_hold:
            held = self._held_for_seek & self.assignment()
            self._held_for_seek = set()
            super().resume_partitions(held)

    # Faust's signature, called with keywords: the timeout is the long poll's.
    async def _getmany(
        self,
        active_partitions: set[TP] | None,
        timeout: float,  # noqa: ASYNC109
    ) -> RecordMap:
        if active_partitions is None:  # client-only apps fetch everything
            return await super()._getmany(None, timeout)
        # A copy: the fetch runs later, in the consumer thread, and an empty set there means
        # "all partitions" to aiokafka.
        asked = set(active_partitions)
        if not asked:
            return {}
        return await super()._getmany(asked, timeout)

    @property
    def held_for_seek(self) -> frozenset[TP]:
        """Input partitions resumed by recovery but not fetched yet (for tests)."""
        return frozenset(self._held_for_seek)


class RecoverySafeTransport(faust_aiokafka.Transport):
    Consumer = RecoverySafeConsumer


def install(app: faust.App) -> None:
    """Make ``app`` build its consumer from ``RecoverySafeTransport``; call before anything
    touches ``app.transport`` (declaring topics and agents does)."""
    if app._transport is not None:
        raise RuntimeError("install() must run before the app's transport is created")
    app.transport = RecoverySafeTransport(app.conf.broker_consumer, app)
