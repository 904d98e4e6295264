"""The pipeline through an authenticated Kafka (SASL/SCRAM-SHA-512) and Redis (AUTH).

A second local stack runs beside the default one, on its own ports and in its own directory,
with a password generated here; it is torn down at the end. What it shows: every client the
pipeline builds (Faust's own, the topic admin, the executor's producer, consumer and Redis
ledger, the test's producer and consumer) authenticates from the MODSTREAM_* environment, and
a client without the credentials is refused.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from redis.exceptions import AuthenticationError

from schemas.action import TRIGGER_COMMENT, ActionResult, Decision
from schemas.deadletter import DeadLetter
from streams import topics as specs
from workers.dev.local_run import LocalPipeline, free_ports
from workers.dev.sample_feed import sample_envelopes
from workers.kafka_clients import kafka_options
from workers.settings import REPO_ROOT, Settings

STACK = REPO_ROOT / "deploy" / "local" / "stack"

# Formatting and starting a second broker (and copying its jars from the local Maven cache)
# comes on top of the pipeline run itself.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def sasl_env() -> Iterator[dict[str, str]]:
    """Starts the SASL stack; yields the environment a client needs to reach it."""
    kafka_port, controller_port, redis_port = free_ports(3)
    stack_dir = REPO_ROOT / ".stack" / f"sasl-{uuid.uuid4().hex[:8]}"
    kafka_password = secrets.token_urlsafe(24)
    redis_password = secrets.token_urlsafe(24)
    stack_env = {
        **os.environ,
        "MODSTREAM_STACK_DIR": str(stack_dir),
        "MODSTREAM_KAFKA_PORT": str(kafka_port),
        "MODSTREAM_KAFKA_CONTROLLER_PORT": str(controller_port),
        "MODSTREAM_REDIS_PORT": str(redis_port),
        "MODSTREAM_KAFKA_HEAP": "512m",
        "MODSTREAM_KAFKA_SASL": "scram",
        "MODSTREAM_KAFKA_USERNAME": "modstream-test",
        "MODSTREAM_KAFKA_PASSWORD": kafka_password,
        "MODSTREAM_REDIS_PASSWORD": redis_password,
    }
    try:
        up = subprocess.run(
            [str(STACK), "up"], env=stack_env, capture_output=True, text=True, timeout=400
        )
        assert up.returncode == 0, f"SASL stack did not start:\n{up.stderr[-3000:]}"
        yield {
            "MODSTREAM_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
            "MODSTREAM_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "MODSTREAM_REDIS_PASSWORD": redis_password,
            "MODSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "MODSTREAM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "MODSTREAM_KAFKA_USERNAME": "modstream-test",
            "MODSTREAM_KAFKA_PASSWORD": kafka_password,
        }
    finally:
        subprocess.run(
            [str(STACK), "down"], env=stack_env, capture_output=True, timeout=120, check=False
        )
        shutil.rmtree(stack_dir, ignore_errors=True)


async def test_pipeline_decides_through_authenticated_kafka_and_redis(
    sasl_env: dict[str, str],
) -> None:
    run = LocalPipeline(extra_env={**sasl_env, "MODSTREAM_WALL_CLOCK_TIMERS": "false"})
    assert run.settings.kafka_security.sasl
    try:
        await run.create_topics()
        run.start_worker()
        run.start_executor()
        await run.wait_ready(timeout_s=300)
        sent = await run.produce(specs.RAW.name, sample_envelopes(300))

        # The executor runs too, and its results flow back into enforcement, which may decide
        # again about the same author: count the decisions that answer a raw comment.
        got = await run.collect(
            [specs.DECISIONS.name, specs.DEADLETTER.name], until=10**9, timeout_s=240, idle_s=10
        )
        raw_topic = run.topic(specs.RAW.name)
        decisions = [
            d
            for d in (Decision.from_bytes(v) for _, v in got[specs.DECISIONS.name])
            if d.trigger == TRIGGER_COMMENT and d.source.split("[")[0] == raw_topic
        ]
        letters = [DeadLetter.from_bytes(v) for _, v in got[specs.DEADLETTER.name]]
        per_comment = Counter(d.comment_id for d in decisions)
        assert all(n == 1 for n in per_comment.values()), per_comment.most_common(3)
        assert len(per_comment) + len(letters) == sent, run.log_of("worker")[-3000:]
        assert not letters, [(dl.reason, dl.detail) for dl in letters[:3]]

        # The executor's results show its consumer, producer and Redis ledger authenticated.
        seen = await run.collect([specs.ACTION_RESULTS.name], until=1, timeout_s=90)
        results = [ActionResult.from_bytes(v) for _, v in seen[specs.ACTION_RESULTS.name]]
        assert results, run.log_of("executor")[-3000:]
        for name in ("worker", "executor"):
            assert "SaslAuthenticationFailed" not in run.log_of(name)
            assert "AuthenticationError" not in run.log_of(name)
    finally:
        await run.close()


async def test_clients_without_the_credentials_are_refused(sasl_env: dict[str, str]) -> None:
    settings = Settings.from_env({**sasl_env, "MODSTREAM_DEV_MODE": "true"})
    anonymous = {"bootstrap_servers": settings.kafka_bootstrap}
    wrong_password = {**kafka_options(settings), "sasl_plain_password": "not-the-password"}
    for options in (anonymous, wrong_password):
        producer = AIOKafkaProducer(**options, request_timeout_ms=5000)
        with pytest.raises(KafkaConnectionError):
            await asyncio.wait_for(producer.start(), timeout=30)
        await producer.stop()

    client = aioredis.from_url(settings.redis_url)
    try:
        with pytest.raises(AuthenticationError):
            await client.ping()
    finally:
        await client.aclose()
