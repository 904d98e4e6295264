"""One metrics bundle per process, created against its own registry.

Labels come only from small fixed sets (stage, outcome, reason, clause, action kind):
never an account key, comment id or text, so the series count cannot grow with traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
)

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_E2E_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    events_in: Counter
    events_out: Counter
    processing_seconds: Histogram
    end_to_end_seconds: Histogram
    dead_letters: Counter
    send_failures: Counter
    verdicts: Counter
    actions: Counter
    late_events: Counter
    table_keys: Gauge
    policy_info: Info
    policy_reloads: Counter
    redis_seconds: Histogram
    redis_errors: Counter
    # Refreshed periodically by workers.processes.lag_monitor (the leader reports the
    # cluster-wide ones).
    consumer_lag: Gauge
    worker_partitions: Gauge
    tables_recovering: Gauge
    faust_latency_seconds: Gauge
    faust_events_active: Gauge
    faust_rebalances: Counter
    faust_buffer_full: Counter
    monitor_errors: Counter
    # The executor (workers.executor.executor) and its evidence store.
    executor_paused: Gauge
    executor_held: Gauge
    retries: Counter
    executor_retries: Counter
    evidence_purged: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> Metrics:
        reg = registry if registry is not None else CollectorRegistry()
        if reg is not REGISTRY:
            # A private registry lacks the process figures (memory, CPU, file descriptors) that
            # the default one carries, and capacity dashboards need them.
            ProcessCollector(registry=reg)
        return cls(
            registry=reg,
            events_in=Counter(
                "modstream_events_in", "Messages consumed by a stage", ["stage"], registry=reg
            ),
            events_out=Counter(
                "modstream_events_out",
                "Messages produced by a stage, by outcome",
                ["stage", "outcome"],
                registry=reg,
            ),
            processing_seconds=Histogram(
                "modstream_processing_seconds",
                "Time a stage spends on one message",
                ["stage"],
                buckets=_LATENCY_BUCKETS,
                registry=reg,
            ),
            end_to_end_seconds=Histogram(
                "modstream_end_to_end_seconds",
                "Comment event time to decision emitted (wall clock)",
                buckets=_E2E_BUCKETS,
                registry=reg,
            ),
            dead_letters=Counter(
                "modstream_dead_letters",
                "Messages dead-lettered",
                ["stage", "reason"],
                registry=reg,
            ),
            send_failures=Counter(
                "modstream_send_failures",
                "Records a worker failed to send; the input they answer waits until they go",
                ["topic"],
                registry=reg,
            ),
            verdicts=Counter(
                "modstream_verdicts", "Findings by policy clause", ["clause"], registry=reg
            ),
            actions=Counter(
                "modstream_actions",
                "Actions by kind and outcome",
                ["kind", "outcome"],
                registry=reg,
            ),
            late_events=Counter(
                "modstream_late_events",
                "Events older than the allowed lateness (still counted, in their own window)",
                ["stage"],
                registry=reg,
            ),
            table_keys=Gauge(
                "modstream_table_keys", "Keys held in a state table", ["table"], registry=reg
            ),
            policy_info=Info("modstream_policy", "Policy version in use", registry=reg),
            policy_reloads=Counter(
                "modstream_policy_reloads",
                "Policy reload attempts by outcome",
                ["outcome"],
                registry=reg,
            ),
            redis_seconds=Histogram(
                "modstream_redis_seconds",
                "Redis call latency",
                ["op"],
                buckets=_LATENCY_BUCKETS,
                registry=reg,
            ),
            redis_errors=Counter(
                "modstream_redis_errors", "Redis call failures", ["op"], registry=reg
            ),
            consumer_lag=Gauge(
                "modstream_consumer_lag_records",
                "Records not yet committed by a consumer group (group: worker or executor)",
                ["group", "topic", "partition"],
                registry=reg,
            ),
            worker_partitions=Gauge(
                "modstream_worker_partitions",
                "Partitions assigned to this worker (role: active or standby)",
                ["role"],
                registry=reg,
            ),
            tables_recovering=Gauge(
                "modstream_tables_recovering",
                "1 while this worker's tables replay their changelogs",
                registry=reg,
            ),
            faust_latency_seconds=Gauge(
                "modstream_faust_latency_seconds",
                "Median of Faust's recent latency samples (op: commit, send, event, rebalance)",
                ["op"],
                registry=reg,
            ),
            faust_events_active=Gauge(
                "modstream_faust_events_active", "Events being processed now", registry=reg
            ),
            # Faust keeps these as running totals; workers.processes.lag_monitor adds what
            # they grew by, so they are counters (rate() and increase() work, a restart is a
            # counter reset).
            faust_rebalances=Counter(
                "modstream_faust_rebalances", "Rebalances this worker has seen", registry=reg
            ),
            faust_buffer_full=Counter(
                "modstream_faust_buffer_full",
                "Times a stream buffer filled up (back-pressure)",
                registry=reg,
            ),
            monitor_errors=Counter(
                "modstream_monitor_errors",
                "Failed observability checks (check: faust, lag)",
                ["check"],
                registry=reg,
            ),
            executor_paused=Gauge(
                "modstream_executor_paused",
                "1 while the executor has stopped consuming because Redis is unreachable",
                registry=reg,
            ),
            executor_held=Gauge(
                "modstream_executor_held_actions",
                "Actions the executor holds in Redis until they are due",
                registry=reg,
            ),
            retries=Counter(
                "modstream_retries",
                "Retries after a transient failure, by op (workers/executor/retry_policy.py)",
                ["op"],
                registry=reg,
            ),
            executor_retries=Counter(
                "modstream_executor_retries",
                "Platform calls retried after a transient failure, by action kind",
                ["kind"],
                registry=reg,
            ),
            evidence_purged=Counter(
                "modstream_evidence_purged",
                "Evidence records deleted because their retention period ended",
                registry=reg,
            ),
        )
