"""Wires every stage's logic to its agents: the only module that knows all the stages."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import faust

from streams.classify import Classifier, load_registry
from streams.classify import agents as classify_agents
from streams.enforce import agents as enforce_agents
from streams.enforce import config as enforce_config
from streams.linking import agents as linking_agents
from streams.linking.config import LinkingConfig
from streams.linking.signals import near_duplicate_signal
from streams.normalise import agents as normalise_agents
from streams.normalise.ingest import ingest
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import Policy
from streams.rate_windows import agents as rate_window_agents
from streams.rate_windows import config as window_config
from streams.rate_windows.cross_author import LinkEvidence
from streams.runtime import wall_ms
from workers.metrics import Metrics
from workers.policy_watch import PolicyWatcher
from workers.settings import Settings
from workers.signal_history import signal_history
from workers.web import register_views

if TYPE_CHECKING:
    from workers.app import PipelineTopics


@dataclass(frozen=True)
class StageConfigs:
    """Everything the stages derive from one policy version, built (and validated) together so
    a policy that any stage refuses is refused as a whole."""

    classifier: Classifier
    windows: window_config.WindowConfig
    enforcement: enforce_config.EnforcementConfig
    linking: LinkingConfig


def build_stage_configs(policy: Policy, settings: Settings) -> StageConfigs:
    registry = load_registry(settings.registry_path) if settings.registry_path else None
    return StageConfigs(
        classifier=Classifier(policy, registry),
        windows=window_config.from_dict(policy.sections.get("rate_windows", {})),
        enforcement=enforce_config.from_policy(policy),
        linking=LinkingConfig.from_dict(policy.sections.get("linking", {})),
    )


def wire_stages(
    app: faust.App, settings: Settings, topics: PipelineTopics, metrics: Metrics
) -> PolicyWatcher[StageConfigs]:
    watcher = PolicyWatcher(
        settings.policy_path, partial(build_stage_configs, settings=settings), metrics
    )
    pseudonymiser = Pseudonymiser(settings.pseudonym_key)

    def ingest_one(raw: bytes, source: str):  # type: ignore[no-untyped-def]
        return ingest(
            raw,
            source=source,
            pseudonymiser=pseudonymiser,
            max_bytes=settings.max_payload_bytes,
            failed_at_ms=wall_ms(),
        )

    normalise_agents.register(
        app,
        raw=topics.raw,
        normalised=topics.normalised,
        deadletter=topics.deadletter,
        ingest=ingest_one,
        metrics=metrics,
    )
    classify_agents.register(
        app,
        normalised=topics.normalised,
        verdicts=topics.verdicts,
        deadletter=topics.deadletter,
        current=lambda: (watcher.current.policy.version, watcher.current.built.classifier),
        metrics=metrics,
    )

    async def send_link(evidence: LinkEvidence, version: str, event_time_ms: int) -> None:
        signal = near_duplicate_signal(evidence, event_time_ms, watcher.current.built.linking)
        await topics.identity_signals.send(key=b"graph", value=signal.to_bytes())

    rate_window_agents.register(
        app,
        verdicts=topics.verdicts,
        assessed=topics.assessed,
        bands=topics.bands,
        notices=topics.behaviour_notices,
        deadletter=topics.deadletter,
        config=lambda: (watcher.current.policy.version, watcher.current.built.windows),
        on_link=send_link,
        partitions=settings.partitions,
        metrics=metrics,
    )
    enforce_agents.register(
        app,
        assessed=topics.assessed,
        notices=topics.behaviour_notices,
        ticks=topics.enforce_ticks,
        results=topics.action_results,
        actions=topics.actions,
        decisions=topics.decisions,
        deadletter=topics.deadletter,
        config=lambda: watcher.current.built.enforcement,
        clusters=topics.identity_clusters,
        partitions=settings.partitions,
        metrics=metrics,
        wall_clock_timers=settings.wall_clock_timers,
        reviews=topics.reviews,
    )

    linking_agents.register(
        app,
        normalised=topics.normalised,
        index=topics.identity_index,
        signals=topics.identity_signals,
        clusters=topics.identity_clusters,
        deadletter=topics.deadletter,
        config=lambda: watcher.current.built.linking,
        history=partial(signal_history, settings),
        partitions=settings.partitions,
        metrics=metrics,
    )

    @app.timer(interval=settings.policy_poll_s)  # type: ignore[untyped-decorator]
    async def reload_policy() -> None:
        # Building a new version compiles the classifier's Hyperscan databases (seconds); that
        # releases the GIL, so in a thread the stages keep running on the current version.
        await asyncio.to_thread(watcher.check)

    register_views(app, metrics)
    return watcher
