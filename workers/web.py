"""HTTP views on the worker's Faust web server: /metrics, /healthz, /readyz."""

from __future__ import annotations

from typing import Any, cast

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from workers import lag_monitor
from workers.metrics import Metrics


def register_views(app: faust.App, metrics: Metrics) -> None:
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
        ok = assigned and not recovering
        status = 200 if ok else 503
        body = {"ready": ok, "assigned": assigned, "recovering": recovering}
        return web.json(body, status=status)
