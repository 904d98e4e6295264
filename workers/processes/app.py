"""The stream worker: one Faust app with every stage's agents, built from one Settings."""

from __future__ import annotations

import logging

import faust

from streams import topics as specs
from streams.registry import WORKER_TOPICS
from workers.kafka_clients import faust_options
from workers.metrics import Metrics
from workers.processes.recovery_consumer import install as install_recovery_safe_consumer
from workers.settings import Settings

log = logging.getLogger(__name__)


def declare_topics(app: faust.App, settings: Settings) -> dict[str, faust.TopicT]:
    """Every topic the worker reads or writes (``streams.registry.WORKER_TOPICS``), by name."""

    def topic(spec: specs.TopicSpec) -> faust.TopicT:
        config = {"cleanup.policy": "compact"} if spec.compacted else {}
        return app.topic(
            settings.topic(spec.name),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=spec.partitions or settings.partitions,
            config=config,
        )

    return {spec.name: topic(spec) for spec in WORKER_TOPICS}


def create_app(settings: Settings, metrics: Metrics | None = None) -> faust.App:
    from workers.processes.pipeline import (
        wire_stages,  # stage wiring needs the app; keep import local
    )

    metrics = metrics or Metrics.create()
    app = faust.App(
        settings.group_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store=settings.store,
        datadir=settings.data_dir,
        web_host=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        # Internal topics (changelogs) must be created by the worker with our partition count.
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
        # Faust's table changelogs survive a crash; a worker that dies loses nothing.
        table_cleanup_interval=30.0,
        producer_acks=-1,
        producer_linger=settings.producer_linger_ms / 1000,
        # Every record is orjson bytes we encode and decode ourselves (schemas/): tables and
        # topics carry them untouched.
        key_serializer="raw",
        value_serializer="raw",
        # A killed worker's partitions wait for its session to time out before the group
        # hands them on (docs/operations.md, "Recovery after a crash").
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_every=500,
        broker_commit_interval=1.0,
        **faust_options(settings),
    )
    # Before any topic or agent touches app.transport: a restarted worker must not fetch
    # input partitions before recovery has seeked them (workers/processes/recovery_consumer.py).
    install_recovery_safe_consumer(app)
    topics = declare_topics(app, settings)
    wire_stages(app, settings, topics, metrics)
    return app
