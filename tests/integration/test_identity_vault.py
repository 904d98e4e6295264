"""The identity map against the real Redis: encrypted at rest, expiring with the evidence
retention, every lookup logged, and purged by author."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis

from workers.evidence_keys import KeySpec
from workers.identity_vault import IdentityUnavailable, IdentityVault, Sighting
from workers.settings import Settings

SECRET = KeySpec("random", bytes(range(32)))


@pytest.fixture
async def vault(local_stack: Settings, tmp_path: Path) -> AsyncIterator[IdentityVault]:
    prefix = f"vault{uuid.uuid4().hex[:8]}:"
    client = aioredis.from_url(local_stack.redis_url)
    store = IdentityVault(
        client, SECRET, prefix=prefix, retention_days=90, access_log=tmp_path / "access.log"
    )
    yield store
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await store.close()


def _seen(n: int, author: str = "a" * 32) -> Sighting:
    return Sighting(
        platform="facebook",
        author_key=author,
        account_id="5550101",
        comment_id=f"facebook:5001_{n}",
        native_id=f"5001_{n}",
        post_id="1000200030004000_5001",
    )


async def test_resolves_comments_and_accounts_and_logs_every_lookup(vault: IdentityVault) -> None:
    await vault.remember(_seen(1))
    await vault.remember(_seen(2))
    target = await vault.resolve(
        platform="facebook",
        author_key="a" * 32,
        comment_id="facebook:5001_1",
        who="executor",
        purpose="hide_post action x1",
    )
    assert (target.comment_id, target.account_id) == ("5001_1", "5550101")
    account = await vault.resolve(
        platform="facebook",
        author_key="a" * 32,
        comment_id="",
        who="executor",
        purpose="block_account action x2",
    )
    assert (account.account_id, account.comment_id) == ("5550101", "5001_2")  # the latest
    entries = vault.access_entries()
    assert [(e["op"], e["who"], e["purpose"]) for e in entries] == [
        ("resolve", "executor", "hide_post action x1"),
        ("resolve", "executor", "block_account action x2"),
    ]
    # The log names no real id, only the keyed reference or the pseudonym.
    assert "5550101" not in orjson.dumps(entries).decode()
    assert "5001_1" not in orjson.dumps(entries).decode()


async def test_nothing_readable_at_rest_and_entries_expire(vault: IdentityVault) -> None:
    await vault.remember(_seen(1))
    client = vault._redis
    keys = [k async for k in client.scan_iter(match=f"{vault._prefix}*")]
    assert len(keys) == 3
    for key in keys:
        assert b"5550101" not in key and b"5001_1" not in key
        if await client.type(key) == b"string":
            value = await client.get(key)
            assert b"5550101" not in value and b"5001_1" not in value
        ttl = await client.ttl(key)
        assert 89 * 86_400 < ttl <= 90 * 86_400


async def test_unknown_or_other_platform_is_unavailable(vault: IdentityVault) -> None:
    await vault.remember(_seen(1))
    with pytest.raises(IdentityUnavailable):
        await vault.resolve(
            platform="x",
            author_key="a" * 32,
            comment_id="facebook:5001_1",
            who="executor",
            purpose="p",
        )
    with pytest.raises(IdentityUnavailable):
        await vault.resolve(
            platform="facebook", author_key="b" * 32, comment_id="", who="executor", purpose="p"
        )


async def test_purge_by_author_removes_every_entry(vault: IdentityVault) -> None:
    await vault.remember(_seen(1))
    await vault.remember(_seen(2))
    await vault.remember(_seen(3, author="c" * 32))
    removed = await vault.forget_author("a" * 32, who="dpo", purpose="erasure request 17")
    assert removed == 4  # account, index, two comments
    for comment in ("facebook:5001_1", "facebook:5001_2"):
        with pytest.raises(IdentityUnavailable):
            await vault.resolve(
                platform="facebook",
                author_key="a" * 32,
                comment_id=comment,
                who="executor",
                purpose="p",
            )
    # Another author's entries stay.
    kept = await vault.resolve(
        platform="facebook",
        author_key="c" * 32,
        comment_id="facebook:5001_3",
        who="executor",
        purpose="p",
    )
    assert kept.comment_id == "5001_3"
    assert vault.access_entries()[0]["op"] == "forget"


def test_the_forget_command_purges_and_logs(local_stack: Settings, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "MODSTREAM_DEV_MODE": "true",
        "MODSTREAM_NAMESPACE": f"forget{uuid.uuid4().hex[:8]}",
        "MODSTREAM_EVIDENCE_DIR": str(tmp_path),
    }
    argv = [sys.executable, "-m", "workers.cli", "connect", "forget", "a" * 32]
    refused = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "--who and --purpose" in refused.stderr
    done = subprocess.run(
        [*argv, "--who", "dpo", "--purpose", "erasure request 17"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "removed 0 identity map entries" in done.stdout
    logged = orjson.loads((tmp_path / "identity-access.log").read_bytes().splitlines()[0])
    assert (logged["op"], logged["who"], logged["purpose"]) == (
        "forget",
        "dpo",
        "erasure request 17",
    )


async def test_a_replys_thread_comes_back(vault: IdentityVault) -> None:
    reply = Sighting(
        platform="youtube",
        author_key="d" * 32,
        account_id="UCauthor",
        comment_id="youtube:UgzTOP.R1",
        native_id="UgzTOP.R1",
        post_id="dQw4w9WgXcQ",
        thread_id="UgzTOP",
    )
    await vault.remember(reply)
    target = await vault.resolve(
        platform="youtube",
        author_key="d" * 32,
        comment_id="youtube:UgzTOP.R1",
        who="executor",
        purpose="reply_ask_removal action r1",
    )
    assert (target.comment_id, target.thread_id) == ("UgzTOP.R1", "UgzTOP")
