"""The console's metrics, on their own registry and their own port (for Prometheus only).

Labels are lane, verb, source and outcome names: small fixed sets, never a user or an id.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from workers.console.projection import LANES, Queue


@dataclass(frozen=True)
class ConsoleMetrics:
    registry: CollectorRegistry
    queue_cases: Gauge
    oldest_emergency_seconds: Gauge
    reviews: Counter
    logins: Counter
    csrf_refused: Counter
    text_views: Counter
    records_read: Counter

    @classmethod
    def create(cls) -> ConsoleMetrics:
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            queue_cases=Gauge(
                "modstream_console_queue_cases",
                "Cases waiting for a person, by lane",
                ["lane"],
                registry=registry,
            ),
            # The alert ModstreamEmergencyWaiting reads this: how long the emergency that has
            # waited longest has waited, 0 when none waits.
            oldest_emergency_seconds=Gauge(
                "modstream_console_oldest_emergency_wait_seconds",
                "Time since posting of the longest-waiting emergency no person has settled",
                registry=registry,
            ),
            reviews=Counter(
                "modstream_console_reviews_total",
                "Decisions people made in the console, by verb",
                ["verb"],
                registry=registry,
            ),
            logins=Counter(
                "modstream_console_logins_total",
                "Sign-ins by outcome (password, proxy, refused)",
                ["outcome"],
                registry=registry,
            ),
            csrf_refused=Counter(
                "modstream_console_csrf_refused_total",
                "Form posts refused for a missing or wrong CSRF token",
                registry=registry,
            ),
            text_views=Counter(
                "modstream_console_text_views_total",
                "Comment texts shown, by where the text came from",
                ["source"],
                registry=registry,
            ),
            records_read=Counter(
                "modstream_console_records_total",
                "Records the console folded from the topics, by topic and outcome",
                ["topic", "outcome"],
                registry=registry,
            ),
        )

    def observe_queue(self, queue: Queue) -> None:
        for lane in LANES:
            self.queue_cases.labels(lane).set(queue.counts[lane])
        self.oldest_emergency_seconds.set(queue.oldest_emergency_ms / 1000)
