"""Who may use the console and what each role may do: users, passwords, sessions, CSRF.

Users come from a YAML file (``MODSTREAM_CONSOLE_USERS_FILE``) or the same list as JSON in
``MODSTREAM_CONSOLE_USERS``; each has a name, a role and an argon2id password hash (make one
with ``modstream console hash-password``). No password is ever stored or logged in clear.

Sessions live in this process's memory, keyed by a random 256-bit token that is the whole
cookie: nothing about the user is in the cookie, a stolen cookie dies with its session, and a
restart signs everyone out. Each session has its own CSRF token, required on every form.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MODERATOR = "moderator"
SAFEGUARDING_LEAD = "safeguarding_lead"
AUDITOR = "auditor"
ROLES = (MODERATOR, SAFEGUARDING_LEAD, AUDITOR)
ROLE_TITLES = {
    MODERATOR: "Moderator",
    SAFEGUARDING_LEAD: "Safeguarding lead",
    AUDITOR: "Auditor (read only)",
}
MAX_SESSIONS = 10_000  # far above a board's moderators; bounds memory if a client loops

_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class UsersError(ValueError):
    """The users list cannot be used; the message names the entry and field to fix."""


def can_decide(role: str) -> bool:
    """Auditors read; only moderators and safeguarding leads post decisions."""
    return role in (MODERATOR, SAFEGUARDING_LEAD)


def can_see_safeguarding(role: str) -> bool:
    """Safeguarding cases and evidence-store text are for the safeguarding lead alone."""
    return role == SAFEGUARDING_LEAD


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    password_hash: str  # argon2id; "" for users who sign in only through the OIDC proxy


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(users: Mapping[str, User], name: str, password: str) -> User | None:
    """The user if the password is theirs, else None; as slow for unknown names."""
    user = users.get(name)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return user if user is not None and user.password_hash else None


def parse_users(entries: Any, where: str) -> dict[str, User]:
    if not isinstance(entries, list):
        raise UsersError(f"{where}: expected a list of users")
    users: dict[str, User] = {}
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise UsersError(f"{where} entry {number}: expected name, role, password_hash")
        name = str(entry.get("name", "")).strip()
        role = str(entry.get("role", ""))
        hashed = str(entry.get("password_hash", "") or "")
        if not name or len(name) > 64 or not name.isprintable():
            raise UsersError(f"{where} entry {number}: a name of 1-64 printable characters")
        if role not in ROLES:
            raise UsersError(f"{where} entry {number} ({name}): role must be one of {ROLES}")
        if hashed and not hashed.startswith("$argon2"):
            raise UsersError(
                f"{where} entry {number} ({name}): password_hash must be an argon2 hash "
                "(modstream console hash-password)"
            )
        if name in users:
            raise UsersError(f"{where}: {name} is listed twice")
        users[name] = User(name=name, role=role, password_hash=hashed)
    return users


def load_users(users_file: str, inline_json: str) -> dict[str, User]:
    users: dict[str, User] = {}
    if users_file:
        try:
            loaded = yaml.safe_load(Path(users_file).read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise UsersError(f"MODSTREAM_CONSOLE_USERS_FILE={users_file}: {exc}") from None
        users.update(parse_users(loaded or [], "MODSTREAM_CONSOLE_USERS_FILE"))
    if inline_json:
        try:
            loaded = orjson.loads(inline_json)
        except orjson.JSONDecodeError as exc:
            raise UsersError(f"MODSTREAM_CONSOLE_USERS is not JSON: {exc}") from None
        for name, user in parse_users(loaded, "MODSTREAM_CONSOLE_USERS").items():
            if name in users:
                raise UsersError(f"{name} is in both the users file and MODSTREAM_CONSOLE_USERS")
            users[name] = user
    if not users:
        raise UsersError(
            "no console users: set MODSTREAM_CONSOLE_USERS_FILE or MODSTREAM_CONSOLE_USERS"
        )
    return users


@dataclass(frozen=True, slots=True)
class Session:
    token: str  # the cookie value
    csrf: str  # the form token
    user: str  # "" before sign-in: the login form has a session too, for its CSRF token
    role: str
    expires_ms: int

    @property
    def signed_in(self) -> bool:
        return bool(self.user)


class Sessions:
    """Server-side sessions, in memory."""

    def __init__(self, lifetime_ms: int, clock: Callable[[], int]) -> None:
        self._lifetime_ms = lifetime_ms
        self._clock = clock
        self._by_token: dict[str, Session] = {}

    def start(self, user: User | None = None) -> Session:
        self._expire()
        if len(self._by_token) >= MAX_SESSIONS:
            # Anonymous (login-form) sessions go first: they hold nothing of value.
            for token in [t for t, s in self._by_token.items() if not s.signed_in]:
                del self._by_token[token]
            while len(self._by_token) >= MAX_SESSIONS:
                del self._by_token[next(iter(self._by_token))]
        session = Session(
            token=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            user=user.name if user else "",
            role=user.role if user else "",
            expires_ms=self._clock() + self._lifetime_ms,
        )
        self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self._by_token.get(token)
        if session is None:
            return None
        if session.expires_ms <= self._clock():
            del self._by_token[token]
            return None
        return session

    def sign_in(self, previous: Session | None, user: User) -> Session:
        """A new token on sign-in, so a token planted before sign-in is worth nothing."""
        if previous is not None:
            self.end(previous.token)
        return self.start(user)

    def end(self, token: str) -> None:
        self._by_token.pop(token, None)

    def renew(self, session: Session) -> Session:
        renewed = replace(session, expires_ms=self._clock() + self._lifetime_ms)
        self._by_token[session.token] = renewed
        return renewed

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, s in self._by_token.items() if s.expires_ms <= now]:
            del self._by_token[token]


class SignInThrottle:
    """After ``limit`` wrong passwords for one name within ``window_ms``, that name cannot
    sign in until the window has passed: argon2 makes each guess slow, this makes guessing
    one person's password by the thousand impossible. Names only, never addresses (staff
    share a NAT); unknown names are throttled alike, so the throttle reveals nothing."""

    def __init__(self, clock: Callable[[], int], limit: int = 5, window_ms: int = 900_000):
        self._clock = clock
        self._limit = limit
        self._window_ms = window_ms
        self._failures: dict[str, list[int]] = {}

    def blocked(self, name: str) -> bool:
        return len(self._recent(name)) >= self._limit

    def failed(self, name: str) -> None:
        self._failures[name] = [*self._recent(name), self._clock()]
        if len(self._failures) > MAX_SESSIONS:  # bounded like the sessions
            del self._failures[next(iter(self._failures))]

    def succeeded(self, name: str) -> None:
        self._failures.pop(name, None)

    def _recent(self, name: str) -> list[int]:
        since = self._clock() - self._window_ms
        return [at for at in self._failures.get(name, ()) if at > since]


def csrf_ok(session: Session | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())
