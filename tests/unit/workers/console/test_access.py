"""Who may do what in the console, through its real HTTP stack (aiohttp test server).

Every route without a session is sent to sign in (pages) or refused with 401; a moderator
cannot open a safeguarding case; an auditor cannot post a decision; a form without its CSRF
token is refused; cookies are HttpOnly, Secure and SameSite; text views are logged.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import ClientResponse, ClientSession, DummyCookieJar
from aiohttp.test_utils import TestServer

from schemas.review import REVIEW_VERBS, Review
from workers.console import auth
from workers.console.app import COOKIE, AccessLog, Console, build_app
from workers.console.metrics import ConsoleMetrics
from workers.evidence_keys import KeySpec
from workers.evidence_store import EvidenceStore

from .cases import NOW, Built, build

PASSWORD = "correct horse battery staple"
USERS = {
    name: auth.User(name, role, auth.hash_password(PASSWORD))
    for name, role in (
        ("mod", auth.MODERATOR),
        ("lead", auth.SAFEGUARDING_LEAD),
        ("audit", auth.AUDITOR),
    )
}


class Sink:
    def __init__(self) -> None:
        self.sent: list[Review] = []

    async def send(self, review: Review) -> None:
        self.sent.append(review)


class Browser:
    """Keeps the session cookie itself, so the test sees exactly what the server set."""

    def __init__(self, http: ClientSession, base: str) -> None:
        self.http = http
        self.base = base
        self.cookie = ""
        self.set_cookie_headers: list[str] = []

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[ClientResponse, str]:
        headers = kwargs.pop("headers", {})
        if self.cookie:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        async with self.http.request(
            method, self.base + path, headers=headers, allow_redirects=False, **kwargs
        ) as response:
            body = await response.text()
            for header in response.headers.getall("Set-Cookie", []):
                self.set_cookie_headers.append(header)
                morsel = SimpleCookie(header).get(COOKIE)
                if morsel is not None:
                    self.cookie = morsel.value
            return response, body

    async def get(self, path: str) -> tuple[ClientResponse, str]:
        return await self.request("GET", path)

    async def post(self, path: str, data: dict[str, Any]) -> tuple[ClientResponse, str]:
        return await self.request("POST", path, data=data)

    async def sign_in(self, name: str) -> None:
        _, page = await self.get("/login")
        response, _ = await self.post(
            "/login", {"csrf": csrf_of(page), "name": name, "password": PASSWORD}
        )
        assert response.status == 303, response.status


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.fixture
def built() -> Built:
    return build()


@pytest.fixture
async def served(built: Built, tmp_path: Path) -> AsyncIterator[tuple[str, Console, Sink]]:
    sink = Sink()
    console = Console(
        projection=built.projection,
        users=USERS,
        sessions=auth.Sessions(3_600_000, lambda: NOW),
        reviews=sink,
        evidence=EvidenceStore(
            tmp_path / "evidence", KeySpec("random", b"k" * 32), retention_days=30
        ),
        access_log=AccessLog(tmp_path / "access.log"),
        metrics=ConsoleMetrics.create(),
        clock=lambda: NOW,
    )
    server = TestServer(build_app(console))
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), console, sink
    finally:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession(cookie_jar=DummyCookieJar()) as session:
        yield session


SignIn = Callable[[str], Awaitable[Browser]]


@pytest.fixture
def sign_in(served: tuple[str, Console, Sink], http: ClientSession) -> SignIn:
    """A new browser, signed in as the named user."""

    async def signed_in(name: str) -> Browser:
        browser = Browser(http, served[0])
        await browser.sign_in(name)
        return browser

    return signed_in


# Every route that needs a session, "{case}" standing for a case id; test_the_route_table_...
# keeps this list complete, so a new route is checked without anyone remembering to.
ROUTES = (
    ("GET", "/"),
    ("GET", "/queue"),
    ("GET", "/case/{case}"),
    ("GET", "/case/{case}?purpose=queue_review"),
    ("POST", "/case/{case}/review"),
    ("POST", "/logout"),
)
# What a stranger may reach: the sign-in form and the static style sheet and script.
PUBLIC = {("GET", "/login"), ("HEAD", "/login"), ("POST", "/login")}
# Every form, and what it needs besides its token.
FORMS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/login", {"name": "mod", "password": PASSWORD}),
    ("/logout", {}),
    ("/case/{case}/review", {"verb": "approve"}),
)


def test_the_route_table_is_every_route_but_sign_in_and_static(built: Built) -> None:
    app = build_app(Console.__new__(Console))  # the routes only: nothing is served
    registered = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and not route.resource.canonical.startswith("/static")
    }
    listed = {(m, p.split("?")[0].replace("{case}", "{case_id}")) for m, p in ROUTES}
    assert registered - PUBLIC == listed | {("HEAD", p) for m, p in listed if m == "GET"}


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_every_route_without_a_session_redirects_or_is_refused(
    served: tuple[str, Console, Sink], http: ClientSession, built: Built, method: str, path: str
) -> None:
    base, _, sink = served
    url = path.format(case=built.case_id("spamming"))
    for cookie in ("", "forged"):  # no cookie, and a made-up one: neither is a session
        browser = Browser(http, base)
        browser.cookie = cookie
        response, _ = await browser.request(method, url, data={"verb": "approve"})
        if method == "GET":
            assert response.status == 302, (method, url, response.status)
            assert response.headers["Location"].startswith("/login?next=")
        else:
            assert response.status == 401, (method, url, response.status)
    assert sink.sent == []


@pytest.mark.parametrize(("path", "fields"), FORMS, ids=[p for p, _ in FORMS])
@pytest.mark.parametrize("token", ["missing", "wrong", "another session's"])
async def test_a_form_without_its_own_csrf_token_is_refused(
    served: tuple[str, Console, Sink],
    http: ClientSession,
    sign_in: SignIn,
    built: Built,
    path: str,
    fields: dict[str, str],
    token: str,
) -> None:
    base, _, sink = served
    if path == "/login":
        browser = Browser(http, base)
        await browser.get("/login")  # a session for the form, not yet signed in
    else:
        browser = await sign_in("mod")
    other = await sign_in("mod")
    _, other_page = await other.get("/queue")
    tokens = {"missing": None, "wrong": "not-the-token", "another session's": csrf_of(other_page)}
    data = fields | ({"csrf": tokens[token]} if tokens[token] else {})
    response, _ = await browser.post(path.format(case=built.case_id("spamming")), data)
    assert response.status == 403
    assert sink.sent == []
    if path != "/login":  # still signed in: the refused form changed nothing
        assert (await browser.get("/queue"))[0].status == 200


async def test_sign_in_sets_a_strict_cookie_and_shows_the_emergency_first(
    sign_in: SignIn, built: Built
) -> None:
    browser = await sign_in("mod")
    signed_in = browser.set_cookie_headers[-1].lower()
    for attribute in ("httponly", "secure", "samesite=strict", "path=/"):
        assert attribute in signed_in, signed_in
    response, page = await browser.get("/queue")
    assert response.status == 200
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    rows = re.findall(r'<tr class="case-row lane-(\w+)( red)?"', page)
    assert rows[0] == ("emergency", " red")


async def test_a_wrong_password_is_refused_and_gives_no_session(
    served: tuple[str, Console, Sink], http: ClientSession
) -> None:
    base, _, _ = served
    browser = Browser(http, base)
    _, page = await browser.get("/login")
    response, _ = await browser.post(
        "/login", {"csrf": csrf_of(page), "name": "mod", "password": "wrong"}
    )
    assert response.status == 401
    response, _ = await browser.get("/queue")
    assert response.status == 302


async def test_a_moderator_cannot_open_a_safeguarding_case(
    served: tuple[str, Console, Sink], sign_in: SignIn, built: Built
) -> None:
    _, _, sink = served
    moderator = await sign_in("mod")
    case = built.case_id("safeguarding")
    response, body = await moderator.get(f"/case/{case}?purpose=queue_review")
    assert response.status == 403
    assert "little one" not in body
    _, queue = await moderator.get("/queue")
    assert f"/case/{case}" not in queue and "safeguarding lead only" in queue
    _, page = await moderator.get(f"/case/{built.case_id('spamming')}")
    response, _ = await moderator.post(
        f"/case/{case}/review", {"csrf": csrf_of(page), "verb": "approve"}
    )
    assert response.status == 403 and sink.sent == []
    lead = await sign_in("lead")
    response, body = await lead.get(f"/case/{case}?purpose=referral")
    assert response.status == 200


@pytest.mark.parametrize("verb", REVIEW_VERBS)
async def test_an_auditor_reads_but_cannot_post_a_decision(
    served: tuple[str, Console, Sink], sign_in: SignIn, built: Built, verb: str
) -> None:
    _, _, sink = served
    auditor = await sign_in("audit")
    case = built.case_id("spamming")
    response, page = await auditor.get(f"/case/{case}?purpose=audit")
    assert response.status == 200
    assert 'id="decide"' not in page and 'name="verb"' not in page
    action = built.actions["spamming"][0].action_id
    response, _ = await auditor.post(
        f"/case/{case}/review",
        {
            "csrf": csrf_of(page),
            "verb": verb,
            "reason": "x",
            "action": action,
            "other_author": "author-twin",
        },
    )
    assert response.status == 403 and sink.sent == []


async def test_reject_writes_a_review_naming_the_hide_to_undo(
    served: tuple[str, Console, Sink], sign_in: SignIn, built: Built
) -> None:
    _, _, sink = served
    moderator = await sign_in("mod")
    case = built.case_id("spamming")
    response, page = await moderator.get(f"/case/{case}?purpose=queue_review")
    assert '<mark class="finding"' in page and "BUY CHEAP PILLS</mark>" in page
    hide = next(a for a in built.actions["spamming"] if a.kind == "hide_post")
    response, _ = await moderator.post(
        f"/case/{case}/review",
        {
            "csrf": csrf_of(page),
            "verb": "reject",
            "reason": "a charity fun run, not spam",
            "action": hide.action_id,
            "purpose": "queue_review",
        },
    )
    assert response.status == 303
    (review,) = sink.sent
    assert (review.verb, review.reviewer, review.role) == ("reject", "mod", "moderator")
    assert [(a.action_id, a.kind) for a in review.actions] == [(hide.action_id, "hide_post")]
    assert review.author_key == "author-spamming" and review.policy_version == "policy-v1"


async def test_every_text_view_is_in_the_evidence_access_log_with_who_and_why(
    served: tuple[str, Console, Sink],
    sign_in: SignIn,
    built: Built,
    tmp_path: Path,
) -> None:
    _, console, _ = served
    assert console.evidence is not None
    safeguarding = built.actions["safeguarding"]
    preserve = next(a for a in safeguarding if a.kind == "preserve_evidence")
    console.evidence.put(
        preserve.action_id, {"action": orjson.loads(preserve.to_bytes())}, clauses=["safeguarding"]
    )
    moderator = await sign_in("mod")
    _, without_purpose = await moderator.get(f"/case/{built.case_id('spamming')}")
    assert "BUY CHEAP" not in without_purpose  # no text until a purpose is given
    await moderator.get(f"/case/{built.case_id('spamming')}?purpose=audit")
    lead = await sign_in("lead")
    _, page = await lead.get(f"/case/{built.case_id('safeguarding')}?purpose=referral")
    assert "the evidence store" in page and "little one" in page
    entries = console.evidence.access_entries()
    assert [(e["op"], e["who"]) for e in entries] == [("view", "mod"), ("read", "lead")]
    assert entries[0]["record_id"] == built.case_id("spamming")
    assert entries[0]["purpose"].startswith("auditing a decision")
    assert entries[1]["record_id"] == preserve.action_id
    log = [orjson.loads(line) for line in (tmp_path / "access.log").read_bytes().splitlines()]
    assert {"user", "role", "method", "path", "status"} <= set(log[-1])
    assert all("facebook:" not in entry["path"] for entry in log)


async def test_the_proxy_header_signs_in_only_from_the_trusted_proxy(
    served: tuple[str, Console, Sink], http: ClientSession
) -> None:
    base, console, _ = served
    console.trusted_header = "X-Forwarded-User"
    console.trusted_proxies = frozenset({"10.9.8.7"})
    stranger = Browser(http, base)
    response, _ = await stranger.request("GET", "/queue", headers={"X-Forwarded-User": "lead"})
    assert response.status == 302  # the header from anyone else is ignored
    console.trusted_proxies = frozenset({"127.0.0.1"})
    proxied = Browser(http, base)
    response, page = await proxied.request("GET", "/queue", headers={"X-Forwarded-User": "lead"})
    assert response.status == 200 and "Safeguarding lead" in page
    assert proxied.cookie  # a session, so forms get their CSRF token
    response, _ = await Browser(http, base).request(
        "GET", "/queue", headers={"X-Forwarded-User": "nobody-we-know"}
    )
    assert response.status == 302


async def test_sign_in_only_sends_people_back_to_a_page_of_this_site(
    served: tuple[str, Console, Sink], http: ClientSession
) -> None:
    base, _, _ = served
    for target, expected in (("/case/abc", "/case/abc"), ("//evil.example", "/queue")):
        browser = Browser(http, base)
        _, page = await browser.get("/login")
        response, _ = await browser.post(
            "/login",
            {"csrf": csrf_of(page), "name": "mod", "password": PASSWORD, "next": target},
        )
        assert response.headers["Location"] == expected


async def test_a_session_ends_at_sign_out_and_at_expiry(
    served: tuple[str, Console, Sink], sign_in: SignIn
) -> None:
    _, console, _ = served
    browser = await sign_in("mod")
    token = browser.cookie
    _, page = await browser.get("/queue")
    response, _ = await browser.post("/logout", {"csrf": csrf_of(page)})
    assert response.status == 303
    browser.cookie = token  # the old token, replayed
    response, _ = await browser.get("/queue")
    assert response.status == 302
    await browser.sign_in("mod")
    now = [NOW]
    console.sessions = auth.Sessions(60_000, lambda: now[0])
    await browser.sign_in("mod")
    assert (await browser.get("/queue"))[0].status == 200
    now[0] += 61_000
    assert (await browser.get("/queue"))[0].status == 302


async def test_escalate_and_appeal_flow_through_the_forms(
    served: tuple[str, Console, Sink], sign_in: SignIn, built: Built
) -> None:
    _, console, sink = served
    moderator = await sign_in("mod")
    case = built.case_id("trolling")
    _, page = await moderator.get(f"/case/{case}")
    assert 'id="form-escalate"' in page and 'id="form-reject"' not in page  # nothing to undo
    response, _ = await moderator.post(
        f"/case/{case}/review",
        {"csrf": csrf_of(page), "verb": "escalate", "reason": "mentions a child"},
    )
    assert response.status == 303
    built.projection.add_review(sink.sent[-1])  # as the feed would read it back
    response, _ = await moderator.get(f"/case/{case}")
    assert response.status == 403  # escalated: the safeguarding lead's now
    lead = await sign_in("lead")
    _, page = await lead.get(f"/case/{case}")
    response, _ = await lead.post(
        f"/case/{case}/review", {"csrf": csrf_of(page), "verb": "approve", "reason": ""}
    )
    assert response.status == 303
    built.projection.add_review(sink.sent[-1])
    _, page = await lead.get(f"/case/{case}")
    assert 'id="form-appeal_received"' in page and 'id="form-approve"' not in page
    # A verb that is not open on the case now is refused.
    response, _ = await lead.post(
        f"/case/{case}/review", {"csrf": csrf_of(page), "verb": "approve", "reason": ""}
    )
    assert response.status == 400
    assert [r.verb for r in sink.sent] == ["escalate", "approve"]
    assert console.metrics.reviews.labels("escalate")._value.get() == 1


async def test_split_link_names_the_blocks_on_the_linked_account_only(
    served: tuple[str, Console, Sink], sign_in: SignIn, built: Built
) -> None:
    _, _, sink = served
    moderator = await sign_in("mod")
    case = built.case_id("spamming")
    _, page = await moderator.get(f"/case/{case}")
    assert "near_duplicate" in page and 'name="other_author" value="author-twin"' in page
    response, _ = await moderator.post(
        f"/case/{case}/review",
        {
            "csrf": csrf_of(page),
            "verb": "split_link",
            "other_author": "someone-else",
            "reason": "r",
        },
    )
    assert response.status == 400  # not a linked account
    response, _ = await moderator.post(
        f"/case/{case}/review",
        {"csrf": csrf_of(page), "verb": "split_link", "other_author": "author-twin", "reason": "r"},
    )
    assert response.status == 303
    (review,) = sink.sent
    assert review.other_author == "author-twin" and review.actions == ()


async def test_five_wrong_passwords_stop_sign_in_for_that_name(
    served: tuple[str, Console, Sink], http: ClientSession
) -> None:
    base, _, _ = served
    browser = Browser(http, base)
    statuses = []
    for password in ["guess"] * 5 + [PASSWORD]:
        _, page = await browser.get("/login")
        response, _ = await browser.post(
            "/login", {"csrf": csrf_of(page), "name": "mod", "password": password}
        )
        statuses.append(response.status)
    assert statuses == [401] * 5 + [429]  # even the right password, for now
    await Browser(http, base).sign_in("lead")  # other names are not affected
