"""An aiohttp server that answers like Meta's Graph API, YouTube Data API v3, X API v2 and
LinkedIn's Community Management API, for the endpoints the connectors and effectors use.

It records every call (method, path, query parameters, body: JSON or form), checks the bearer
token, and can be told to answer a 429 with ``Retry-After``, a 5xx, an expired token, or
"already deleted" (each platform's own error shape). Base URLs for the settings::

    MODSTREAM_META_GRAPH_URL=<url>/graph/v21.0    MODSTREAM_YOUTUBE_API_URL=<url>/youtube/v3
    MODSTREAM_X_API_URL=<url>/x                   MODSTREAM_LINKEDIN_API_URL=<url>/linkedin
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from aiohttp import web

TOKEN = "fake-platform-token"
_GRAPH = "/graph/v21.0"


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # decoded, without the platform prefix's host
    params: dict[str, str]
    body: Any  # parsed JSON, a form dict, or None
    authorised: bool
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    method: str
    path_pattern: str  # regex searched in the path
    status: int
    headers: dict[str, str]
    body: Any
    times: int


Handler = Callable[[web.Request, "re.Match[str]", Any], "web.Response"]


@dataclass
class FakePlatform:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    # --- content the read endpoints serve ---
    fb_posts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ig_media: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    yt_threads: list[dict[str, Any]] = field(default_factory=list)  # newest first
    x_mentions: list[dict[str, Any]] = field(default_factory=list)  # tweets, newest first
    x_users: dict[str, dict[str, Any]] = field(default_factory=dict)
    li_posts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    x_rate_remaining: int = 100
    page_size: int = 2  # small, so tests exercise pagination
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(900_000))
    runner: web.AppRunner | None = None
    url: str = ""

    # --- control -------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        self.faults.append(Fault(method, path_pattern, status, headers or {}, body, times))

    def expire_token(self) -> None:
        self.token = "a-token-nobody-has"

    def requests(self, method: str | None = None, pattern: str = "") -> list[Call]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method) and re.search(pattern, c.path)
        ]

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method != "GET"]

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{bound}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def env(self) -> dict[str, str]:
        """Settings that point every connector and effector here."""
        return {
            "MODSTREAM_META_GRAPH_URL": f"{self.url}{_GRAPH}",
            "MODSTREAM_YOUTUBE_API_URL": f"{self.url}/youtube/v3",
            "MODSTREAM_X_API_URL": f"{self.url}/x",
            "MODSTREAM_LINKEDIN_API_URL": f"{self.url}/linkedin",
            "MODSTREAM_META_PAGE_TOKEN": TOKEN,
            "MODSTREAM_YOUTUBE_TOKEN": TOKEN,
            "MODSTREAM_X_TOKEN": TOKEN,
            "MODSTREAM_LINKEDIN_TOKEN": TOKEN,
        }

    # --- dispatch ------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body: Any = None
        if raw:
            if request.content_type == "application/json":
                body = orjson.loads(raw)
            else:
                body = dict(parse_qsl(raw.decode()))
        path = unquote(request.raw_path.split("?", 1)[0])
        authorised = request.headers.get("Authorization") == f"Bearer {self.token}"
        self.calls.append(Call(request.method, path, dict(request.query), body, authorised))
        for fault in self.faults:
            if (
                fault.times > 0
                and fault.method == request.method
                and re.search(fault.path_pattern, path)
            ):
                fault.times -= 1
                return _json(fault.body, fault.status, fault.headers)
        if not authorised:
            return self._expired(path)
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and method == request.method:
                return handler(request, match, body)
        return _json({"error": "no such endpoint in the fake"}, 404)

    def _routes(self) -> list[tuple[str, str, Handler]]:
        g, yt, x, li = _GRAPH, "/youtube/v3", "/x/2", "/linkedin/rest"
        return [
            ("GET", rf"{g}/([^/]+)/posts", self._fb_posts),
            ("GET", rf"{g}/([^/]+)/media", self._ig_media),
            ("GET", rf"{g}/([^/]+)/comments", self._graph_comments),
            ("POST", rf"{g}/([^/]+)/blocked", self._graph_blocked),
            ("POST", rf"{g}/([^/]+)/(comments|replies)", self._graph_reply),
            ("POST", rf"{g}/([^/]+)", self._graph_update),
            ("DELETE", rf"{g}/([^/]+)", self._graph_delete),
            ("GET", rf"{yt}/commentThreads", self._yt_threads),
            ("POST", rf"{yt}/comments/setModerationStatus", self._yt_moderate),
            ("POST", rf"{yt}/comments", self._yt_insert),
            ("GET", rf"{x}/users/([^/]+)/mentions", self._x_mentions),
            ("PUT", rf"{x}/tweets/([^/]+)/hidden", self._x_hide),
            ("POST", rf"{x}/users/([^/]+)/(blocking|muting)", self._x_block),
            ("POST", rf"{x}/tweets", self._x_post),
            ("GET", rf"{li}/posts", self._li_posts),
            ("GET", rf"{li}/socialActions/(.+)/comments", self._li_comments),
            ("DELETE", rf"{li}/socialActions/(.+)/comments/([^/]+)", self._li_delete),
            ("POST", rf"{li}/socialActions/(.+)/comments", self._li_create),
        ]

    def _expired(self, path: str) -> web.Response:
        if path.startswith(_GRAPH):
            error = {
                "message": "Error validating access token",
                "type": "OAuthException",
                "code": 190,
            }
            return _json({"error": error}, 400)
        if path.startswith("/youtube"):
            return _json({"error": {"code": 401, "errors": [{"reason": "authError"}]}}, 401)
        return _json({"title": "Unauthorized", "status": 401}, 401)

    # --- Meta Graph -------------------------------------------------------------------------------

    def _fb_posts(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        return _json({"data": [{"id": p} for p in self.fb_posts], "paging": {}})

    def _ig_media(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        return _json({"data": [{"id": p} for p in self.ig_media], "paging": {}})

    def _graph_comments(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        nodes = self.fb_posts.get(m.group(1)) or self.ig_media.get(m.group(1)) or []
        nodes = [n for n in nodes if n["id"] not in self.deleted]
        if "since" in request.query:  # Graph's time filter, on the Facebook comments edge
            since = int(request.query["since"])
            nodes = [n for n in nodes if _epoch_s(n.get("created_time", "")) > since]
        start = int(request.query.get("after", "0"))
        page = nodes[start : start + self.page_size]
        paging: dict[str, Any] = {
            "cursors": {"before": str(start), "after": str(start + len(page))}
        }
        if start + len(page) < len(nodes):
            paging["next"] = f"{self.url}{request.path}?after={start + len(page)}"
        return _json({"data": page, "paging": paging})

    def _graph_gone(self, node: str) -> web.Response | None:
        if node not in self.deleted:
            return None
        error = {
            "message": "Unsupported post request. Object does not exist",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
        }
        return _json({"error": error}, 400)

    def _graph_update(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        return self._graph_gone(m.group(1)) or _json({"success": True})

    def _graph_delete(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        gone = self._graph_gone(m.group(1))
        if gone is None:
            self.deleted.add(m.group(1))
        return gone or _json({"success": True})

    def _graph_reply(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        return self._graph_gone(m.group(1)) or _json({"id": f"{m.group(1)}_{next(self._ids)}"})

    def _graph_blocked(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        return _json({str((body or {}).get("user", "")): True})

    # --- YouTube --------------------------------------------------------------------------------

    def _yt_threads(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        start = int(request.query.get("pageToken") or 0)
        size = min(int(request.query.get("maxResults", "20")), self.page_size)
        page = self.yt_threads[start : start + size]
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "pageInfo": {"totalResults": len(self.yt_threads), "resultsPerPage": size},
            "items": page,
        }
        if start + size < len(self.yt_threads):
            body["nextPageToken"] = str(start + size)
        return _json(body)

    def _yt_gone(self, comment: str) -> web.Response | None:
        if comment not in self.deleted:
            return None
        error = {
            "code": 404,
            "errors": [{"reason": "commentNotFound", "domain": "youtube.comment"}],
        }
        return _json({"error": error}, 404)

    def _yt_moderate(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        gone = self._yt_gone(request.query.get("id", ""))
        return gone or web.Response(status=204)

    def _yt_insert(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        snippet = (body or {}).get("snippet", {})
        gone = self._yt_gone(snippet.get("parentId", ""))
        return gone or _json(
            {"kind": "youtube#comment", "id": f"Ugz{next(self._ids)}", "snippet": snippet}
        )

    # --- X ---------------------------------------------------------------------------------------

    def _x_headers(self) -> dict[str, str]:
        self.x_rate_remaining = max(0, self.x_rate_remaining - 1)
        return {
            "x-rate-limit-limit": "180",
            "x-rate-limit-remaining": str(self.x_rate_remaining),
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }

    def _x_mentions(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        since = int(request.query.get("since_id") or 0)
        newer = [t for t in self.x_mentions if int(t["id"]) > since]
        start = int(request.query.get("pagination_token") or 0)
        page = newer[start : start + self.page_size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
        if start + len(page) < len(newer):
            meta["next_token"] = str(start + len(page))
        authors = {t["author_id"] for t in page}
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = page
            body["includes"] = {"users": [self.x_users[a] for a in authors if a in self.x_users]}
        return _json(body, headers=self._x_headers())

    def _x_gone(self, tweet: str) -> web.Response | None:
        if tweet not in self.deleted:
            return None
        error = {
            "title": "Not Found Error",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
            "detail": "Could not find tweet",
        }
        return _json({"errors": [error]}, 404)

    def _x_hide(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        return self._x_gone(m.group(1)) or _json({"data": {"hidden": True}})

    def _x_block(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        return _json({"data": {m.group(2): True}})

    def _x_post(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        replied = ((body or {}).get("reply") or {}).get("in_reply_to_tweet_id", "")
        gone = self._x_gone(replied)
        return gone or _json({"data": {"id": str(next(self._ids)), "text": body["text"]}}, 201)

    # --- LinkedIn --------------------------------------------------------------------------------

    def _li_posts(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        return _json({"elements": [{"id": p} for p in self.li_posts], "paging": {"start": 0}})

    def _li_comments(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        elements = [c for c in self.li_posts.get(m.group(1), []) if c["id"] not in self.deleted]
        return _json({"elements": elements, "paging": {"start": 0, "count": len(elements)}})

    def _li_delete(self, request: web.Request, m: re.Match[str], _: Any) -> web.Response:
        if m.group(2) in self.deleted:
            return _json({"status": 404, "message": "Comment not found"}, 404)
        self.deleted.add(m.group(2))
        return web.Response(status=204)

    def _li_create(self, request: web.Request, m: re.Match[str], body: Any) -> web.Response:
        created = {**(body or {}), "id": str(next(self._ids))}
        return _json(created, 201)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    if body is None:
        return web.Response(status=status, headers=headers)
    return web.Response(
        body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def _epoch_s(stamp: str) -> int:
    try:
        return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp())
    except ValueError:
        return 0


def signed_delivery(secret: str, delivery: Any) -> tuple[bytes, dict[str, str]]:
    """A Meta webhook POST as Meta sends it: the body and its ``X-Hub-Signature-256``."""
    body = orjson.dumps(delivery)
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}
