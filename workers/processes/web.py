"""HTTP views on the worker's Faust web server: /metrics, /healthz, /readyz."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from workers.metrics import Metrics
from workers.processes import lag_monitor


def unassigned_inputs(app: faust.App, inputs: Sequence[str]) -> list[str]:
    """Input topics the group's last assignment left out. Faust's assignor skips a topic with
    no partitions ("Ignoring missing topic") and the group then never reads it: a worker that
    starts before its topics exist runs deaf. Every member learns the assigned topics (their
    co-partitioning groups) with its own assignment."""
    assignor = app.assignor
    missing = []
    for topic in inputs:
        try:
            assignor.group_for_topic(topic)
        except KeyError:
            missing.append(topic)
    return missing


def register_views(app: faust.App, metrics: Metrics, inputs: Sequence[str] = ()) -> None:
    # Consumer lag and Faust's own figures belong to no stage; they are refreshed on a timer
    # here so that /metrics reports them on every worker.
    lag_monitor.register(app, metrics)

    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        # As a header: aiohttp refuses a content_type argument that carries a charset, which
        # Prometheus's exposition type does.
        body = generate_latest(metrics.registry)
        return web.bytes(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/healthz")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def ready(web: Any, request: Any) -> Any:
        # Not ready until this worker has an assignment and its tables have caught up with
        # their changelogs: serving decisions from half-recovered state would be wrong.
        recovering = not cast(Any, app.tables).recovery.completed.is_set() if app.tables else False
        assigned = bool(app.assignor.assigned_actives()) if app.assignor else False
        # Not ready while any input topic is left out of the assignment: deaf, not idle.
        unassigned = unassigned_inputs(app, inputs) if app.assignor else list(inputs)
        ok = assigned and not recovering and not unassigned
        status = 200 if ok else 503
        body = {
            "ready": ok,
            "assigned": assigned,
            "recovering": recovering,
            "unassigned_inputs": unassigned,
        }
        return web.json(body, status=status)
