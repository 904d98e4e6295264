"""Meta through the real broker: the webhook receiver's contract (handshake, signature,
one record per comment, no duplicate on redelivery), and a comment from the fake platform
through the connector, the pipeline and the executor to the exact Graph API requests."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import orjson
import pytest

from schemas.action import Decision
from streams import topics as specs
from streams.platforms import facebook, instagram, meta
from tests.fake_platform import FakePlatform, signed_delivery
from tests.integration.platform_run import (
    APP_SECRET,
    MONITORED_S,
    PAGE_ID,
    VERIFY_TOKEN,
    identity_log,
    start_connector,
    wait_for_calls,
)
from workers.dev.local_run import LocalPipeline, free_port
from workers.processes.connect import Connector, backfill_meta, webhook_runner

POST = f"{PAGE_ID}_5001"


def comment_change(n: int, account: str, name: str, text: str, at_s: int) -> dict[str, Any]:
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": f"5001_{n}",
            "post_id": POST,
            "parent_id": POST,
            "from": {"id": account, "name": name},
            "message": text,
            "created_time": at_s,
        },
    }


def delivery(*changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": MONITORED_S, "changes": list(changes)}],
    }


async def _raw(pipeline: LocalPipeline, at_least: int = 1) -> list[tuple[bytes | None, bytes]]:
    got = await pipeline.collect([specs.RAW.name], until=10**9, timeout_s=8, idle_s=3)
    return got[specs.RAW.name]


async def test_webhook_contract(
    platform_pipeline: LocalPipeline, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    connector = Connector(platform_pipeline.settings, "meta")
    await connector.start()
    runner = webhook_runner(connector)
    await runner.setup()
    port = free_port()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/webhooks/meta"
    try:
        async with aiohttp.ClientSession() as http:
            # The handshake answers the challenge only with our token.
            ok = {
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "c-42",
            }
            async with http.get(url, params=ok) as reply:
                assert (reply.status, await reply.text()) == (200, "c-42")
            for bad in ({**ok, "hub.verify_token": "guess"}, {**ok, "hub.mode": "unsubscribe"}):
                async with http.get(url, params=bad) as reply:
                    assert reply.status == 403

            doc = delivery(
                comment_change(1, "5550001", "Rhys Morgan", "Thank you to the staff", MONITORED_S),
                comment_change(2, "5550002", "Ceri Evans", "When is the clinic open?", MONITORED_S),
                {"field": "feed", "value": {"item": "reaction", "verb": "add"}},
            )
            body, headers = signed_delivery(APP_SECRET, doc)
            # A bad signature, or none, is refused before anything is produced.
            forged = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
            async with http.post(url, data=body, headers=forged) as reply:
                assert reply.status == 403
            async with http.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as reply:
                assert reply.status == 403
            assert await _raw(platform_pipeline) == []

            for _ in range(2):  # Meta redelivers: the second is a duplicate
                async with http.post(url, data=body, headers=headers) as reply:
                    assert reply.status == 200
    finally:
        await runner.cleanup()
        await connector.close()

    # The access log names method, path and status; never the verify token in the query.
    assert "GET /webhooks/meta 200" in caplog.text
    assert VERIFY_TOKEN not in caplog.text and "c-42" not in caplog.text

    records = await _raw(platform_pipeline)
    envelopes = [orjson.loads(value) for _, value in records]
    assert sorted(e["payload"]["id"] for e in envelopes) == ["5001_1", "5001_2"]
    assert {key for key, _ in records} == {b"facebook:5550001", b"facebook:5550002"}
    assert envelopes[0]["payload"]["created_time"] == "2026-12-01T10:00:00+0000"
    assert connector.metrics.duplicates.labels("facebook")._value.get() == 2
    assert connector.metrics.webhook_rejected.labels("meta", "bad_signature")._value.get() == 2


async def test_backfill_reads_what_arrived_while_the_connector_was_down(
    platform_pipeline: LocalPipeline, fake: FakePlatform
) -> None:
    """The cursor holds the newest comment the webhook delivered; at start the connector
    reads the Graph comments edges since then and produces only what it has not seen."""
    seen_at = MONITORED_S
    fake.fb_posts = {
        POST: [
            facebook.sample(
                comment_id="5001_1",
                account_id="5550001",
                name="Rhys",
                text="old, delivered by webhook",
                at_ms=seen_at * 1000,
            ),
            facebook.sample(
                comment_id="5001_2",
                account_id="5550002",
                name="Ceri",
                text="made while we were down",
                at_ms=(seen_at + 300) * 1000,
            ),
        ]
    }
    fake.ig_media = {
        "17890000000000001": [
            instagram.sample(
                comment_id="17900000000000001",
                account_id="178414999",
                username="a",
                text="old",
                at_ms=(seen_at - 60) * 1000,
                media_id="17890000000000001",
                caption="",
            ),
            instagram.sample(
                comment_id="17900000000000002",
                account_id="178414998",
                username="b",
                text="new",
                at_ms=(seen_at + 60) * 1000,
                media_id="17890000000000001",
                caption="",
            ),
        ]
    }
    connector = Connector(platform_pipeline.settings, "meta")
    await connector.start()
    try:
        # What the webhook had delivered before the downtime.
        await connector.publisher.publish(
            meta.comments_of(
                delivery(comment_change(1, "5550001", "Rhys", "old, delivered by webhook", seen_at))
            )[0]
        )
        await connector.publisher.save_cursor(
            {"facebook_since": seen_at, "instagram_since": seen_at}
        )
        produced = await backfill_meta(connector)
        cursor = await connector.publisher.cursor()
    finally:
        await connector.close()
    assert produced == 2
    ids = sorted(orjson.loads(v)["payload"]["id"] for _, v in await _raw(platform_pipeline))
    assert ids == ["17900000000000002", "5001_1", "5001_2"]
    since = [c.params.get("since") for c in fake.requests("GET", f"/{POST}/comments$")]
    assert since == [str(seen_at)]
    assert cursor["facebook_since"] == seen_at + 300


SWEARING = (
    "What a load of sh1t, cancelled AGAIN at Prince Charles Hospital",
    "shite service from start to finish at the Royal Glamorgan",
    "Absolute f.u.c.k.i.n.g joke this place, 5 hours and still not seen",
)
ALLEGATION = (
    "Dr Gareth Pryce at Prince Charles Hospital turns up drunk on shift, everyone on ward 7 "
    "knows it"
)


async def test_a_webhook_comment_reaches_the_page_as_graph_requests(
    platform_pipeline: LocalPipeline, fake: FakePlatform
) -> None:
    """Three swearing comments from one account in an hour (a reply asking for removal, then
    a block and a hide) and an allegation from another (deleted at once)."""
    platform_pipeline.start_worker()
    platform_pipeline.start_executor()
    start_connector(platform_pipeline, "meta")
    port = int(platform_pipeline.env["MODSTREAM_WEBHOOK_PORT"])
    await platform_pipeline.wait_listening(port, "connect-meta")
    await platform_pipeline.wait_ready()

    changes = [
        comment_change(10 + i, "5550101", "Dai Bevan", text, MONITORED_S + 600 * i)
        for i, text in enumerate(SWEARING)
    ]
    changes.append(comment_change(20, "5550202", "Sian Lloyd", ALLEGATION, MONITORED_S + 60))
    body, headers = signed_delivery(APP_SECRET, delivery(*changes))
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/webhooks/meta", data=body, headers=headers) as reply,
    ):
        assert reply.status == 200

    def finished(calls: list[Any]) -> bool:
        return any(c.path.endswith("/blocked") for c in calls) and any(
            c.method == "DELETE" for c in calls
        )

    calls = await wait_for_calls(fake, finished)
    made = [(c.method, c.path, c.params, c.body) for c in calls]
    g = "/graph/v21.0"
    message = {c.path: (c.body or {}).get("message", "") for c in calls}
    # Exactly these requests, each once: the two first swearing comments are asked to be
    # removed, the third (three inflammatory posts in an hour) is hidden and its author
    # blocked by the real account id, resolved through the identity map (the pipeline only
    # ever saw the pseudonym); the allegation is deleted at once.
    assert sorted(made, key=repr) == sorted(
        [
            (
                "POST",
                f"{g}/5001_10/comments",
                {},
                {"message": message.get(f"{g}/5001_10/comments")},
            ),
            (
                "POST",
                f"{g}/5001_11/comments",
                {},
                {"message": message.get(f"{g}/5001_11/comments")},
            ),
            ("POST", f"{g}/5001_12", {}, {"is_hidden": "true"}),
            ("POST", f"{g}/{PAGE_ID}/blocked", {}, {"user": "5550101"}),
            ("DELETE", f"{g}/5001_20", {}, None),
        ],
        key=repr,
    ), made
    assert "remove" in message[f"{g}/5001_10/comments"].lower()
    assert all(c.authorised for c in calls)

    # Every resolution went to the access log, naming the executor and the action.
    entries = [
        orjson.loads(line) for line in identity_log(platform_pipeline).read_bytes().splitlines()
    ]
    assert len(entries) >= len(calls)
    assert {e["who"] for e in entries} == {"executor"}
    assert all(
        "5550101" not in line for line in identity_log(platform_pipeline).read_text().splitlines()
    )

    # The pipeline saw pseudonyms only: no decision carries the real account id.
    got = await platform_pipeline.collect(
        [specs.DECISIONS.name], until=10**9, timeout_s=10, idle_s=2
    )
    decisions = [Decision.from_bytes(v) for _, v in got[specs.DECISIONS.name]]
    assert decisions and all("5550101" not in d.author_key for d in decisions)
