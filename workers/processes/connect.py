"""``modstream connect meta|youtube|x|linkedin``: bring platform comments into ``comments.raw``.

- ``meta``: the webhook receiver for Facebook Page and Instagram comments
  (``/webhooks/meta`` on ``MODSTREAM_WEBHOOK_PORT``), with a Graph API backfill at start for
  what arrived while it was down;
- ``youtube``, ``x``, ``linkedin``: pollers, every ``MODSTREAM_POLL_INTERVAL_MS``.

Every connector publishes through ``workers.processes.connect_publish.Publisher`` (dedup by
comment id, identity map, recovery after a crash) and serves its metrics on
``MODSTREAM_WEB_PORT + 200``. ``modstream connect forget AUTHOR_KEY --who NAME --purpose TEXT``
purges an author's entries from the identity map. Settings and credentials:
docs/operations.md, "Platform connectors".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiohttp
import click
import orjson
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from streams.platforms import graph, meta
from streams.platforms import x as x_platform
from streams.platforms import youtube as youtube_platform
from streams.platforms.base import Envelope, Poll
from streams.platforms.errors import PlatformError, RateLimited, TokenExpired
from streams.platforms.http import ApiClient, Backoff, Response
from streams.platforms.linkedin import LinkedinPoller
from workers.cli_conventions import command, run_command
from workers.executor.effectors import linkedin_headers
from workers.identity_vault import IdentityVault
from workers.kafka_clients import redis_options
from workers.processes.connect_publish import ConnectorMetrics, Publisher
from workers.settings import Settings, SettingsError

log = logging.getLogger("modstream.connect")

WEBHOOK_PATH = "/webhooks/meta"
MAX_DELIVERY_BYTES = 1 << 20
METRICS_PORT_OFFSET = 200
_PACIFIC = ZoneInfo("America/Los_Angeles")  # YouTube's quota day


class Poller(Protocol):
    name: str

    async def poll(self, cursor: dict[str, Any]) -> Poll: ...


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, TokenExpired):
        return "token"
    return "transient" if getattr(exc, "retriable", False) else "permanent"


class Connector:
    """What every connector shares: clients, publisher, backoff and the stop signal."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        self.name = name
        self.metrics = ConnectorMetrics.create()
        self.stopping = asyncio.Event()
        self.redis: aioredis.Redis = aioredis.from_url(
            settings.redis_url, **redis_options(settings)
        )
        self.vault = IdentityVault.from_settings(settings, self.redis)
        self.publisher = Publisher(
            settings, name, redis=self.redis, vault=self.vault, metrics=self.metrics
        )
        self.session: aiohttp.ClientSession | None = None

    def backoff(self, platform: str) -> Backoff:
        def on_retry(exc: BaseException, delay: float) -> None:
            self.metrics.errors.labels(platform, _error_kind(exc)).inc()
            log.warning("%s: %s; retrying in %.1fs", platform, type(exc).__name__, delay)

        return Backoff(on_retry=on_retry)

    def api(self, base_url: str, platform: str, token: str, **kw: Any) -> ApiClient:
        if self.session is None:
            raise RuntimeError("connector not started")
        return ApiClient(
            self.session, base_url, platform, token, backoff=self.backoff(platform), **kw
        )

    def fetcher(self, api: ApiClient) -> Callable[[str, dict[str, str]], Awaitable[Response]]:
        async def fetch(path: str, params: dict[str, str]) -> Response:
            response = await api.call("GET", path, params=params)
            remaining = response.headers.get("x-rate-limit-remaining")
            if remaining is not None and remaining.isdigit():
                self.metrics.quota_left.labels(api.platform).set(int(remaining))
            return response

        return fetch

    async def start(self) -> aiohttp.ClientSession:
        self.session = aiohttp.ClientSession()
        await self.publisher.start()
        return self.session

    async def close(self) -> None:
        await self.publisher.stop()
        if self.session is not None:
            await self.session.close()
        await self.redis.aclose()

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=max(0.0, seconds))

    async def poll_forever(self, poller: Poller, platform: str) -> None:
        interval = self.settings.platforms.poll_interval_s
        while not self.stopping.is_set():
            wait_s: float | None = None
            try:
                cursor = await self.publisher.cursor()
                result = await poller.poll(cursor)
                await self.publisher.publish(result.envelopes)
                # Saved only once every comment it covers is acknowledged by the broker.
                await self.publisher.save_cursor(result.cursor)
                wait_s = result.wait_s
            except PlatformError as exc:
                self.metrics.errors.labels(platform, _error_kind(exc)).inc()
                wait_s = getattr(exc, "retry_after_s", None)
                if isinstance(exc, TokenExpired):
                    log.error("%s: the access token is expired or revoked: renew it", platform)
                else:
                    log.warning("%s poll failed: %s", platform, exc)
            await self.pause(max(interval, wait_s or 0.0))


# --- Meta: the webhook ------------------------------------------------------------------------


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Method, path and status: never the query string, which carries the verify token."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


def webhook_app(connector: Connector) -> web.Application:
    config = connector.settings.platforms
    secret = config.meta_app_secret.encode()
    metrics = connector.metrics

    async def handshake(request: web.Request) -> web.Response:
        challenge = meta.handshake(request.query, config.meta_verify_token)
        if challenge is None:
            metrics.webhook_rejected.labels("meta", "handshake").inc()
            return web.Response(status=403, text="forbidden")
        return web.Response(text=challenge)

    async def deliver(request: web.Request) -> web.Response:
        body = await request.read()
        if not meta.signature_valid(secret, body, request.headers.get(meta.SIGNATURE_HEADER)):
            metrics.webhook_rejected.labels("meta", "bad_signature").inc()
            return web.Response(status=403, text="forbidden")
        try:
            delivery = orjson.loads(body)
        except orjson.JSONDecodeError:
            metrics.webhook_rejected.labels("meta", "bad_json").inc()
            return web.Response(status=400, text="not JSON")
        envelopes, _ = meta.comments_of(delivery)
        # A failure here answers 500: Meta delivers again, and the dedup drops what did land.
        await connector.publisher.publish(envelopes)
        await _advance_meta_cursor(connector, envelopes)
        return web.Response(text="ok")

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_DELIVERY_BYTES)
    app.router.add_get(WEBHOOK_PATH, handshake)
    app.router.add_post(WEBHOOK_PATH, deliver)
    app.router.add_get("/healthz", health)
    return app


def webhook_runner(connector: Connector) -> web.AppRunner:
    """The webhook app with an access log that never writes the query string."""
    return web.AppRunner(webhook_app(connector), access_log_class=PathOnlyAccessLogger)


async def _advance_meta_cursor(connector: Connector, envelopes: list[Envelope]) -> None:
    """The backfill's starting point: the newest comment time seen, per platform."""
    if not envelopes:
        return
    cursor = await connector.publisher.cursor()
    for envelope in envelopes:
        stamp = envelope.payload.get("created_time") or envelope.payload.get("timestamp")
        if isinstance(stamp, str):
            with contextlib.suppress(ValueError):
                at = int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp())
                key = f"{envelope.platform}_since"
                cursor[key] = max(int(cursor.get(key, 0)), at)
    await connector.publisher.save_cursor(cursor)


async def backfill_meta(connector: Connector) -> int:
    config = connector.settings.platforms
    if not config.meta_page_token:
        return 0
    api = connector.api(
        config.meta_graph_url, "meta", config.meta_page_token, classify=graph.classify
    )
    cursor = await connector.publisher.cursor()
    found: list[Envelope] = []
    # Without a cursor there is no downtime to cover: the first run starts from now.
    now_s = int(time.time())
    if config.meta_page_id:
        since = int(cursor.get("facebook_since", now_s))
        found += await meta.facebook_backfill(api, config.meta_page_id, since)
    if config.meta_ig_user_id:
        since = int(cursor.get("instagram_since", now_s))
        found += await meta.instagram_backfill(api, config.meta_ig_user_id, since)
    produced = await connector.publisher.publish(found)
    await _advance_meta_cursor(connector, found)
    return produced


async def run_meta(connector: Connector) -> None:
    config = connector.settings.platforms
    if not config.meta_app_secret or not config.meta_verify_token:
        raise SettingsError(
            "modstream connect meta needs MODSTREAM_META_APP_SECRET and MODSTREAM_META_VERIFY_TOKEN"
        )
    await connector.start()
    runner = webhook_runner(connector)
    await runner.setup()
    site = web.TCPSite(runner, config.webhook_host, config.webhook_port)
    await site.start()
    log.info(
        "meta webhook listening on %s:%d%s", config.webhook_host, config.webhook_port, WEBHOOK_PATH
    )
    try:
        try:
            produced = await backfill_meta(connector)
            log.info("meta backfill produced %d comments", produced)
        except PlatformError as exc:
            connector.metrics.errors.labels("meta", _error_kind(exc)).inc()
            log.warning("meta backfill failed: %s", exc)
        await connector.stopping.wait()
    finally:
        await runner.cleanup()


# --- the pollers --------------------------------------------------------------------------------


class RedisQuota:
    """YouTube's daily quota, counted in Redis per Pacific day (when Google resets it)."""

    def __init__(self, connector: Connector, daily: int) -> None:
        self._redis = connector.redis
        self._prefix = f"{connector.settings.redis_prefix}connect:youtube:quota:"
        self._daily = daily
        self._gauge = connector.metrics.quota_left.labels("youtube")

    def _key(self) -> str:
        return self._prefix + datetime.now(_PACIFIC).strftime("%Y-%m-%d")

    async def spend(self, units: int) -> int:
        key = self._key()
        used = int(await self._redis.incrby(key, units))
        await self._redis.expire(key, 2 * 86_400)
        self._gauge.set(self._daily - used)
        return self._daily - used

    async def left(self) -> int:
        used = int(await self._redis.get(self._key()) or 0)
        self._gauge.set(self._daily - used)
        return self._daily - used


def build_poller(connector: Connector) -> Poller:
    config = connector.settings.platforms
    name = connector.name
    if name == "youtube":
        _require(
            name,
            MODSTREAM_YOUTUBE_TOKEN=config.youtube_token,
            MODSTREAM_YOUTUBE_CHANNEL_ID=config.youtube_channel_id,
        )
        api = connector.api(
            config.youtube_api_url, name, config.youtube_token, classify=youtube_platform.classify
        )
        return youtube_platform.YoutubePoller(
            connector.fetcher(api),
            config.youtube_channel_id,
            RedisQuota(connector, config.youtube_daily_quota),
            reserve=config.youtube_quota_reserve,
        )
    if name == "x":
        _require(name, MODSTREAM_X_TOKEN=config.x_token, MODSTREAM_X_USER_ID=config.x_user_id)
        api = connector.api(config.x_api_url, name, config.x_token, classify=x_platform.classify)
        return x_platform.XPoller(connector.fetcher(api), config.x_user_id)
    if name == "linkedin":
        _require(
            name,
            MODSTREAM_LINKEDIN_TOKEN=config.linkedin_token,
            MODSTREAM_LINKEDIN_ORG_URN=config.linkedin_org_urn,
        )
        api = connector.api(
            config.linkedin_api_url,
            name,
            config.linkedin_token,
            extra_headers=linkedin_headers(config),
        )
        return LinkedinPoller(connector.fetcher(api), config.linkedin_org_urn)
    raise SettingsError(f"unknown connector {name!r}")


def _require(name: str, **values: str) -> None:
    missing = [variable for variable, value in values.items() if not value]
    if missing:
        raise SettingsError(f"modstream connect {name} needs {' and '.join(missing)}")


async def run_poller(connector: Connector) -> None:
    await connector.start()
    await connector.poll_forever(build_poller(connector), connector.name)


# --- the process ----------------------------------------------------------------------------------

CONNECTORS = ("meta", "youtube", "x", "linkedin")


async def run(settings: Settings, name: str) -> None:
    from prometheus_client import start_http_server

    connector = Connector(settings, name)
    start_http_server(
        settings.web_port + METRICS_PORT_OFFSET,
        addr=settings.web_host,
        registry=connector.metrics.registry,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, connector.stopping.set)
    try:
        await (run_meta(connector) if name == "meta" else run_poller(connector))
    finally:
        await connector.close()


async def forget(settings: Settings, author_key: str, who: str, purpose: str) -> int:
    redis = aioredis.from_url(settings.redis_url, **redis_options(settings))
    vault = IdentityVault.from_settings(settings, redis)
    try:
        return await vault.forget_author(author_key, who=who, purpose=purpose)
    finally:
        await vault.close()


@command("connect", help=(__doc__ or "").split("\n")[0])
@click.argument("connector", type=click.Choice([*CONNECTORS, "forget"]))
@click.argument("author_key", required=False, default="")
@click.option("--who", default="", help="forget: who asks (goes in the access log)")
@click.option("--purpose", default="", help="forget: why (goes in the access log)")
def connect_command(connector: str, author_key: str, who: str, purpose: str) -> int:
    from workers.logging_config import configure_logging

    if connector == "forget" and not (author_key and who and purpose):
        raise click.UsageError("forget needs AUTHOR_KEY, --who and --purpose")
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    if connector == "forget":
        removed = asyncio.run(forget(settings, author_key, who, purpose))
        click.echo(f"removed {removed} identity map entries")
        return 0
    asyncio.run(run(settings, connector))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(connect_command, argv, "modstream connect")


if __name__ == "__main__":
    raise SystemExit(main())
