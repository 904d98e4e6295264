"""The console's web application: routes, sign-in, permissions, CSRF and the access log.

Every route needs a signed-in session except the sign-in form itself and the static assets
(a style sheet and a script, no data). Without a session a page request is sent to sign in
and anything else gets 401. Every form carries the session's CSRF token and a POST without it
is refused with 403. Each request is written to the access log (who, role, method, path,
status); paths name cases by a digest, never by a platform id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import orjson
from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from schemas.action import UNDO_KINDS, Action
from schemas.comment import PLATFORMS
from schemas.review import (
    MAX_REASON,
    REVIEW_VERBS,
    SETTLING_VERBS,
    UNDOING_VERBS,
    VERB_APPEAL_DISMISSED,
    VERB_APPEAL_RECEIVED,
    VERB_APPEAL_UPHELD,
    VERB_APPROVE,
    VERB_ESCALATE,
    VERB_REJECT,
    VERB_SPLIT_LINK,
    Review,
    ReviewedAction,
    review_id,
)
from workers.console import auth
from workers.console.highlight import runs
from workers.console.metrics import ConsoleMetrics
from workers.console.projection import (
    AGE_FILTERS,
    LANE_TITLES,
    LANES,
    CaseRecord,
    Projection,
)
from workers.evidence_store import EvidenceError, EvidenceStore
from workers.offline.explain import render_text

log = logging.getLogger("modstream.console")

HERE = Path(__file__).resolve().parent
COOKIE = "modstream_console"
PUBLIC_ROUTES = frozenset({"login", "login_post", "static"})
ROWS_PER_LANE = 200  # a page a person can read; the counts and filters reach the rest
# Why a person opens a comment's text: the evidence access log records the choice.
PURPOSES = {
    "queue_review": "reviewing a queued case",
    "appeal": "answering an appeal",
    "audit": "auditing a decision",
    "referral": "preparing a safeguarding referral",
}
VERB_TITLES = {
    VERB_APPROVE: "Approve: the actions stand",
    VERB_REJECT: "Reject: undo what was done",
    VERB_ESCALATE: "Escalate to the safeguarding lead",
    VERB_SPLIT_LINK: "Split a wrong link",
    VERB_APPEAL_RECEIVED: "Record an appeal",
    VERB_APPEAL_UPHELD: "Appeal upheld: undo what was done",
    VERB_APPEAL_DISMISSED: "Appeal dismissed: the actions stand",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

SESSION_KEY = web.RequestKey("session", object)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ReviewSink(Protocol):
    """Where decisions go: the ``reviews`` topic (``workers.console.kafka_io.KafkaReviewSink``)."""

    async def send(self, review: Review) -> None: ...


class AccessLog:
    """One JSON line per request, appended: who did what, when, with which result."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, entry: Mapping[str, Any]) -> None:
        line = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS) + b"\n"
        if self._path is None:
            log.info("access %s", line.decode().strip())
            return
        with self._path.open("ab") as out:
            out.write(line)


@dataclass
class Console:
    projection: Projection
    users: Mapping[str, auth.User]
    sessions: auth.Sessions
    reviews: ReviewSink
    evidence: EvidenceStore | None
    access_log: AccessLog
    metrics: ConsoleMetrics
    titles: Mapping[str, str] = field(default_factory=dict)  # clause id -> policy title
    trusted_header: str = ""
    trusted_proxies: frozenset[str] = frozenset()
    session_seconds: int = 8 * 3600
    clock: Callable[[], int] = field(default=lambda: time.time_ns() // 1_000_000)
    # False while the feed is still reading the topics' history: the queue says so.
    caught_up: Callable[[], bool] = field(default=lambda: True)
    templates: Environment = field(init=False)
    throttle: auth.SignInThrottle = field(init=False)

    def __post_init__(self) -> None:
        self.throttle = auth.SignInThrottle(self.clock)
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["when"] = _when
        self.templates.filters["ago"] = _ago
        self.templates.filters["short"] = lambda key: str(key)[:8]


def build_app(console: Console) -> web.Application:
    app = web.Application(
        middlewares=[_access_logged(console), _secured(), _authenticated(console)],
        client_max_size=64 * 1024,
    )
    app[CONSOLE] = console
    app.router.add_get("/login", login_form, name="login")
    app.router.add_post("/login", login, name="login_post")
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/", home, name="home")
    app.router.add_get("/queue", queue, name="queue")
    app.router.add_get("/case/{case_id}", case, name="case")
    app.router.add_post("/case/{case_id}/review", decide, name="review")
    app.router.add_static("/static", HERE / "static", name="static")
    return app


CONSOLE = web.AppKey("console", Console)


# --- middlewares -----------------------------------------------------------------------------


def _access_logged(console: Console) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            session = _session(request)
            signed_in = session is not None and session.signed_in
            console.access_log.write(
                {
                    "at_ms": console.clock(),
                    "user": session.user if session is not None and signed_in else "",
                    "role": session.role if session is not None and signed_in else "",
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "remote": request.remote or "",
                }
            )

    return middleware


def _secured() -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(SECURITY_HEADERS)
            raise
        response.headers.update(SECURITY_HEADERS)
        return response

    return middleware


def _authenticated(console: Console) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        session = console.sessions.get(request.cookies.get(COOKIE))
        fresh: auth.Session | None = None
        if (session is None or not session.signed_in) and _trusted(console, request):
            user = console.users.get(request.headers.get(console.trusted_header, "").strip())
            if user is not None:
                fresh = session = console.sessions.sign_in(session, user)
                console.metrics.logins.labels("proxy").inc()
        request[SESSION_KEY] = session
        route = request.match_info.route.name
        if route not in PUBLIC_ROUTES:
            if session is None or not session.signed_in:
                if request.method == "GET" and route is not None:
                    raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
                raise web.HTTPUnauthorized(text="sign in first")
            session = console.sessions.renew(session)
            request[SESSION_KEY] = session
        if request.method == "POST" and route != "static":
            form = await request.post()
            submitted = form.get("csrf")
            if not auth.csrf_ok(session, submitted if isinstance(submitted, str) else None):
                console.metrics.csrf_refused.inc()
                raise web.HTTPForbidden(text="this form has expired or was not sent by the console")
        response = await handler(request)
        if fresh is not None:
            _set_cookie(response, fresh, console)
        return response

    return middleware


def _trusted(console: Console, request: web.Request) -> bool:
    """The sign-in header counts only from the configured proxy: anyone else could send it."""
    return bool(
        console.trusted_header
        and request.remote in console.trusted_proxies
        and request.headers.get(console.trusted_header)
    )


def _set_cookie(response: web.StreamResponse, session: auth.Session, console: Console) -> None:
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        secure=True,
        samesite="Strict",
        path="/",
        max_age=console.session_seconds,
    )


# --- sign-in -----------------------------------------------------------------------------


async def login_form(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = _session(request)
    if session is not None and session.signed_in:
        raise web.HTTPFound(_next(request.query.get("next")))
    fresh = session is None
    if session is None:
        session = console.sessions.start()
    response = _render(
        console, "login.html", session=session, next=request.query.get("next", ""), error=""
    )
    if fresh:
        _set_cookie(response, session, console)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    throttled = console.throttle.blocked(name)
    user = None
    if name and password and not throttled:
        # argon2 is slow on purpose (tens of ms of CPU and 64 MiB): off the event loop, so one
        # sign-in does not stall every other page.
        user = await asyncio.to_thread(auth.verify_password, console.users, name, password)
    if user is None:
        console.metrics.logins.labels("throttled" if throttled else "refused").inc()
        if not throttled:
            console.throttle.failed(name)
        # A new anonymous session: its CSRF token was spent on this attempt.
        old = _session(request)
        if old is not None:
            console.sessions.end(old.token)
        anonymous = console.sessions.start()
        response = _render(
            console,
            "login.html",
            session=anonymous,
            next=str(form.get("next", "")),
            error=(
                "Too many wrong passwords for this name: try again in 15 minutes."
                if throttled
                else "That name and password do not match a console user."
            ),
            status=429 if throttled else 401,
        )
        _set_cookie(response, anonymous, console)
        return response
    console.metrics.logins.labels("password").inc()
    console.throttle.succeeded(name)
    session = console.sessions.sign_in(_session(request), user)
    response = _see_other(_next(str(form.get("next", ""))))
    _set_cookie(response, session, console)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = _session(request)
    if session is not None:
        console.sessions.end(session.token)
    response = _see_other("/login")
    response.del_cookie(COOKIE, path="/")
    return response


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/queue")


# --- the queue -----------------------------------------------------------------------------


async def queue(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = _signed_in(request)
    clause = request.query.get("clause", "")
    platform = request.query.get("platform", "")
    age = request.query.get("age", "")
    now = console.clock()
    view = console.projection.queue(now, clause=clause, platform=platform, age=age)
    return _render(
        console,
        "queue.html",
        session=session,
        view=view,
        lanes=LANES,
        lane_titles=LANE_TITLES,
        filters={"clause": clause, "platform": platform, "age": age},
        clauses=sorted(console.projection.procedures),
        platforms=PLATFORMS,
        ages=(*AGE_FILTERS, "older"),
        sees_safeguarding=auth.can_see_safeguarding(session.role),
        caught_up=console.caught_up(),
        row_limit=ROWS_PER_LANE,
        now_ms=now,
    )


# --- one case ------------------------------------------------------------------------------


async def case(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = _signed_in(request)
    now = console.clock()
    record = _case_record(request, now)
    purpose = request.query.get("purpose", "")
    text, text_source, text_error = "", "", ""
    if purpose in PURPOSES:
        # The access log is fsynced before the text is read: file work, off the event loop.
        text, text_source, text_error = await asyncio.to_thread(
            _read_text, console, session, record, purpose
        )
    projection = console.projection
    history = projection.author_decisions(record.author_key)
    open_cases = [
        i for i in projection.open_cases_of(record.author_key, now) if i.case_id != record.case_id
    ]
    actions = projection.actions_by_id(a for d in record.decisions for a in d.action_ids)
    trail = render_text(record.comment_id, list(record.decisions), actions)
    cluster = projection.cluster_of(record.author_key)
    linked_evidence = sorted({e for s in record.actions for e in s.action.linked_evidence})
    return _render(
        console,
        "case.html",
        session=session,
        record=record,
        purposes=PURPOSES,
        purpose=purpose,
        text=text,
        runs=runs(text, record.findings) if text else [],
        text_source=text_source,
        text_error=text_error,
        history=history,
        behaviour=[b for d in history for b in d.behaviour],
        open_cases=open_cases,
        trail=trail,
        cluster=cluster,
        linked_evidence=linked_evidence,
        verbs=_verbs_for(record) if _may_decide(session, record) else (),
        verb_titles=VERB_TITLES,
        undoable=[s for s in record.actions if s.action.kind in UNDO_KINDS],
        recorded=request.query.get("recorded", ""),
        lane_titles=LANE_TITLES,
        max_reason=MAX_REASON,
        now_ms=now,
    )


async def decide(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    session = _signed_in(request)
    now = console.clock()
    record = _case_record(request, now)
    if not _may_decide(session, record):
        raise web.HTTPForbidden(text="your role cannot decide on this case")
    form = await request.post()
    verb = str(form.get("verb", ""))
    if verb not in _verbs_for(record):
        raise web.HTTPBadRequest(text="that decision is not open on this case now")
    reason = str(form.get("reason", "")).strip()
    if len(reason) > MAX_REASON:
        raise web.HTTPBadRequest(text=f"a reason is at most {MAX_REASON} characters")
    if verb != VERB_APPROVE and not reason:
        raise web.HTTPBadRequest(text="say why: the reason is kept with the decision")
    other = str(form.get("other_author", "")) if verb == VERB_SPLIT_LINK else ""
    undo: list[Action] = []
    if verb == VERB_SPLIT_LINK:
        cluster = console.projection.cluster_of(record.author_key)
        if cluster is None or other not in cluster.members or other == record.author_key:
            raise web.HTTPBadRequest(text="that account is not linked to this author")
        undo = console.projection.linked_block_actions(record.case_id, other)
    elif verb in UNDOING_VERBS:
        chosen = set(form.getall("action", []))
        undo = [
            a for a in console.projection.undoable_actions(record.case_id) if a.action_id in chosen
        ]
        if not undo:
            raise web.HTTPBadRequest(text="choose at least one action to undo")
    review = Review(
        review_id=review_id(record.comment_id, verb, session.user, now),
        verb=verb,
        author_key=record.author_key,
        comment_id=record.comment_id,
        platform=record.platform,
        policy_version=record.policy_version,
        reviewer=session.user,
        role=session.role,
        reason=reason,
        at_ms=now,
        actions=tuple(ReviewedAction.of(a) for a in undo),
        other_author=other,
    )
    await console.reviews.send(review)
    console.metrics.reviews.labels(verb).inc()
    purpose = str(form.get("purpose", ""))
    back = f"/case/{record.case_id}?recorded={verb}"
    if purpose in PURPOSES:
        back += f"&purpose={purpose}"
    raise web.HTTPSeeOther(back)


# --- helpers -------------------------------------------------------------------------------


def _session(request: web.Request) -> auth.Session | None:
    session = request.get(SESSION_KEY)
    return session if isinstance(session, auth.Session) else None


def _signed_in(request: web.Request) -> auth.Session:
    session = _session(request)
    if session is None or not session.signed_in:
        raise web.HTTPUnauthorized(text="sign in first")  # the middleware already made sure
    return session


def _case_record(request: web.Request, now_ms: int) -> CaseRecord:
    console = request.app[CONSOLE]
    session = _signed_in(request)
    record = console.projection.case(request.match_info["case_id"], now_ms)
    if record is None:
        raise web.HTTPNotFound(text="no such case")
    if record.safeguarding and not auth.can_see_safeguarding(session.role):
        raise web.HTTPForbidden(text="safeguarding cases are for the safeguarding lead")
    return record


def _may_decide(session: auth.Session, record: CaseRecord) -> bool:
    if not auth.can_decide(session.role):
        return False
    return not record.safeguarding or auth.can_see_safeguarding(session.role)


def _verbs_for(record: CaseRecord) -> tuple[str, ...]:
    """The decisions open on the case now: an appeal is answered, a settled case can only be
    appealed, anything else can be decided."""
    settled = any(r.verb in SETTLING_VERBS for r in record.reviews)
    appealed = record.lane == "appeals"
    if appealed:
        return (VERB_APPEAL_UPHELD, VERB_APPEAL_DISMISSED)
    if settled:
        return (VERB_APPEAL_RECEIVED,)
    verbs = [v for v in REVIEW_VERBS if v in {VERB_APPROVE, VERB_REJECT, VERB_ESCALATE}]
    if not any(s.action.kind in UNDO_KINDS for s in record.actions):
        verbs.remove(VERB_REJECT)
    if record.safeguarding:
        verbs.remove(VERB_ESCALATE)
    verbs.append(VERB_SPLIT_LINK)
    return tuple(verbs)


def _read_text(
    console: Console, session: auth.Session, record: CaseRecord, purpose: str
) -> tuple[str, str, str]:
    """The comment's text, its source and an error; every read is in the evidence access log
    with who and why, before the text is shown."""
    if console.evidence is None:
        return "", "", "No evidence store is configured, so text cannot be shown with a log."
    why = f"{PURPOSES[purpose]} (console case {record.case_id})"
    try:
        if record.evidence_record and auth.can_see_safeguarding(session.role):
            stored = console.evidence.read(
                record.evidence_record, reviewer=session.user, purpose=why
            )
            content = stored.payload.get("action", {}).get("content", "")
            if isinstance(content, str) and content:
                console.metrics.text_views.labels("evidence_store").inc()
                return content, "the evidence store (copy kept at the time)", ""
        if record.comment is not None:
            console.evidence.log_view(record.case_id, reviewer=session.user, purpose=why)
            console.metrics.text_views.labels("topic").inc()
            return record.comment.text, "comments.assessed", ""
    except EvidenceError as exc:
        return "", "", f"The text could not be read: {exc}"
    return "", "", "The console has not seen this comment's text (no copy kept, topic expired)."


def _render(console: Console, template: str, *, status: int = 200, **context: Any) -> web.Response:
    body = console.templates.get_template(template).render(
        role_titles=auth.ROLE_TITLES, titles=console.titles, **context
    )
    return web.Response(text=body, status=status, content_type="text/html")


def _see_other(location: str) -> web.Response:
    # A response, not a raised HTTPSeeOther: the cookie set on it must reach the browser.
    return web.Response(status=303, headers={"Location": location})


def _next(target: str | None) -> str:
    # Only a path on this site: an open redirect would turn the login page into a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ago(ms: int) -> str:
    minutes = ms // 60_000
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} days"
