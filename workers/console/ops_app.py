"""The console's operations port (MODSTREAM_CONSOLE_METRICS_PORT): what machines ask, apart
from what people ask, so that every route on the console's own port needs a person's session.

- ``/metrics``: Prometheus (queue sizes, the oldest emergency's wait, sign-ins, reviews);
- ``/healthz``: liveness, "ok" while the event loop answers (a failed topic feed stops the
  process instead, so a restart is the cure for anything else);
- ``/readyz``: readiness, "ok" once the feed has read the topics' history; until then the
  queue would be incomplete, so a new replica takes no traffic from an old one that has it.

None of them names a case, a person or an account.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from workers.console.app import Console

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"


def build_ops_app(console: Console) -> web.Application:
    async def metrics_view(request: web.Request) -> web.Response:
        console.metrics.observe_queue(console.projection.queue(console.clock()))
        body = generate_latest(console.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health_view(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def ready_view(request: web.Request) -> web.Response:
        if console.caught_up():
            return web.Response(text="ok")
        return web.Response(status=503, text="reading the topics' history")

    app = web.Application()
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get(HEALTH_PATH, health_view)
    app.router.add_get(READY_PATH, ready_view)
    return app
