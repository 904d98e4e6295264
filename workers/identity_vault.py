"""The re-identification map: pseudonymous author keys and comment ids -> the platform's real
ids, encrypted, kept only as long as evidence is, and read only by the executor.

Everything after ingestion sees the author as a keyed hash; a platform blocks an account by
its own id. The connector, which has the real ids anyway, writes them here beside the
pseudonym; the executor is the one reader, and every read goes to the access log first.

Layout in Redis (under the namespace prefix), each value AES-256-GCM under a key derived from
MODSTREAM_EVIDENCE_KEY (HKDF, ``info`` of its own) with the Redis key name as associated
data, so a value moved to another key fails to open:

- ``idmap:a:<author key>``: platform, account id, the author's latest comment and post ids
  (YouTube bans an author through one of their comments);
- ``idmap:c:<keyed hash of comment id>``: platform, native comment id, post id, author key;
- ``idmap:ac:<author key>``: the set of that author's comment entries, for purge by author.

Every key expires after ``MODSTREAM_EVIDENCE_RETENTION_DAYS`` (refreshed on each new comment).
The access log is ``<evidence dir>/identity-access.log``, one JSON line per lookup or purge,
appended and fsynced before the lookup returns.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from streams.platforms.effecting import Target
from workers.evidence_keys import KeySpec
from workers.evidence_store import DAY_MS, derive_key
from workers.kafka_clients import redis_options
from workers.settings import Settings

ACCESS_LOG = "identity-access.log"
_ENCRYPT_INFO = b"modstream identity map v1: encryption key"
_HASH_INFO = b"modstream identity map v1: comment id hash key"
_NONCE = 12


class IdentityUnavailable(Exception):
    """The map holds no entry for this action (the comment came from a feed without a
    connector, or its retention ended): a person must act on the platform by hand."""

    retriable = False


@dataclass(frozen=True, slots=True)
class Sighting:
    """What a connector saw of one comment, real ids included."""

    platform: str
    author_key: str
    account_id: str
    comment_id: str  # "<platform>:<native id>", as Comment.comment_id
    native_id: str
    post_id: str
    thread_id: str = ""


class IdentityVault:
    def __init__(
        self,
        redis: aioredis.Redis,
        secret: KeySpec,
        *,
        prefix: str,
        retention_days: int,
        access_log: Path,
        clock: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._redis = redis
        self._aead = AESGCM(derive_key(secret, _ENCRYPT_INFO))
        self._hash_key = derive_key(secret, _HASH_INFO)
        self._prefix = f"{prefix}idmap:"
        self._ttl_s = retention_days * DAY_MS // 1000
        self._access_log = access_log
        self._clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, redis: aioredis.Redis | None = None
    ) -> IdentityVault:
        client = redis or aioredis.from_url(settings.redis_url, **redis_options(settings))
        return cls(
            client,
            settings.evidence_key,
            prefix=settings.redis_prefix,
            retention_days=settings.evidence_retention_days,
            access_log=Path(settings.evidence_dir) / ACCESS_LOG,
        )

    async def close(self) -> None:
        await self._redis.aclose()

    # --- the connector's side: write only ----------------------------------------------------

    async def remember(self, *seen: Sighting) -> None:
        """Store the ids of the comments seen, in one round trip. The author's "latest
        comment" is the last of ``seen`` for that author: pass them in event-time order."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for one in seen:
                self._queue(pipe, one)
            await pipe.execute()

    def _queue(self, pipe: Any, seen: Sighting) -> None:
        author = f"{self._prefix}a:{seen.author_key}"
        comment = f"{self._prefix}c:{self.comment_ref(seen.comment_id)}"
        by_author = f"{self._prefix}ac:{seen.author_key}"
        account = {
            "platform": seen.platform,
            "account_id": seen.account_id,
            "last_comment_id": seen.native_id,
            "last_post_id": seen.post_id,
        }
        entry = {
            "platform": seen.platform,
            "native_id": seen.native_id,
            "post_id": seen.post_id,
            "thread_id": seen.thread_id,
            "author_key": seen.author_key,
            "account_id": seen.account_id,
        }
        pipe.set(author, self._seal(author, account), ex=self._ttl_s)
        pipe.set(comment, self._seal(comment, entry), ex=self._ttl_s)
        pipe.sadd(by_author, comment)
        pipe.expire(by_author, self._ttl_s)

    def comment_ref(self, comment_id: str) -> str:
        """A keyed hash: the comment id is not readable from the Redis key."""
        return hmac.new(self._hash_key, comment_id.encode(), hashlib.sha256).hexdigest()[:40]

    # --- the executor's side: every read logged ----------------------------------------------

    async def resolve(
        self, *, platform: str, author_key: str, comment_id: str, who: str, purpose: str
    ) -> Target:
        """The real ids behind an action. ``comment_id`` empty: an account-level action, and the
        author's latest comment stands in where the platform needs one."""
        self._log(
            "resolve", (comment_id and self.comment_ref(comment_id)) or author_key, who, purpose
        )
        if comment_id:
            key = f"{self._prefix}c:{self.comment_ref(comment_id)}"
            entry = await self._open(key)
            if entry is None or entry.get("platform") != platform:
                raise IdentityUnavailable("no identity entry for this comment")
            account = str(entry.get("account_id", ""))
            if not account:
                author = await self._open(f"{self._prefix}a:{author_key}")
                account = str(author.get("account_id", "")) if author else ""
            return Target(
                platform=platform,
                account_id=account,
                comment_id=str(entry["native_id"]),
                post_id=str(entry.get("post_id", "")),
                thread_id=str(entry.get("thread_id", "")),
            )
        author = await self._open(f"{self._prefix}a:{author_key}")
        if author is None or author.get("platform") != platform:
            raise IdentityUnavailable("no identity entry for this author")
        return Target(
            platform=platform,
            account_id=str(author["account_id"]),
            comment_id=str(author.get("last_comment_id", "")),
            post_id=str(author.get("last_post_id", "")),
        )

    async def forget_author(self, author_key: str, *, who: str, purpose: str) -> int:
        """Purge by author (an erasure request): every entry about them goes. Returns how many."""
        self._log("forget", author_key, who, purpose)
        by_author = f"{self._prefix}ac:{author_key}"
        comments = [
            c.decode() if isinstance(c, bytes) else c for c in await self._redis.smembers(by_author)
        ]
        keys = [f"{self._prefix}a:{author_key}", by_author, *comments]
        return int(await self._redis.delete(*keys))

    # --- internals -----------------------------------------------------------------------------

    def _seal(self, key: str, value: dict[str, Any]) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, orjson.dumps(value), key.encode())

    async def _open(self, key: str) -> dict[str, Any] | None:
        blob = await self._redis.get(key)
        if not isinstance(blob, bytes):
            return None
        try:
            value = orjson.loads(self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], key.encode()))
        except (InvalidTag, ValueError):
            # Wrong key or a value moved between keys: treated as absent, never guessed at.
            return None
        return value if isinstance(value, dict) else None

    def _log(self, op: str, ref: str, who: str, purpose: str) -> None:
        entry = {"at_ms": self._clock(), "op": op, "ref": ref, "who": who, "purpose": purpose}
        self._access_log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._access_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, orjson.dumps(entry, option=orjson.OPT_SORT_KEYS) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def access_entries(self) -> list[dict[str, Any]]:
        if not self._access_log.exists():
            return []
        return [orjson.loads(ln) for ln in self._access_log.read_bytes().splitlines() if ln]
