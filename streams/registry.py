"""The registry: one ordered list of stages and one of worker inputs, which everything else reads.

The worker's wiring (one agent per input), the offline runner's routing (a record goes to the
step its topic feeds), the architecture test (which packages are stages), the metrics labels and
the dashboards all come from here, so adding an input is one entry: for example a reviewers'
topic that enforcement consumes is ``Input(REVIEWS, "enforce", "enforce-reviews",
Review.from_bytes, Composition.on_review)`` beside the step itself (as the moderator console's
``reviews`` now is).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.action import ActionResult, Tick
from schemas.identity import ClusterMembership, LinkOverride, LinkSignal
from schemas.review import Review
from schemas.side import SideRecord
from schemas.verdict import BehaviourNotice
from streams import topics as specs
from streams.composition import Composition, Outputs


@dataclass(frozen=True)
class Stage:
    """One stage: its metric label, its package under ``streams/`` (``""`` for none) and the
    topics it reads and writes. Stages in one hop share one agent and no topic between them."""

    name: str
    package: str
    inputs: tuple[specs.TopicSpec, ...]
    outputs: tuple[specs.TopicSpec, ...]


Step = Callable[[Composition, Any, bytes | None, str], Outputs]


@dataclass(frozen=True)
class Input:
    """One topic the worker consumes: the stage that owns it, the agent's name (frozen once
    deployed: consumer offsets are kept per group, and the agent is its topic's only reader),
    how to decode a value and the step that handles it."""

    topic: specs.TopicSpec
    stage: str
    agent: str
    decode: Callable[[bytes], Any]
    step: Step


def _raw(value: bytes) -> bytes:
    return value


MAIN_LINE = ("normalise", "classify", "rate_windows", "enforce")  # one hop, one agent

STAGES: tuple[Stage, ...] = (
    Stage("normalise", "normalise", (specs.RAW,), (specs.DEADLETTER,)),
    Stage("classify", "classify", (), ()),
    Stage("rate_windows", "rate_windows", (), (specs.SIDE, specs.ASSESSED)),
    Stage(
        "enforce",
        "enforce",
        (
            specs.BEHAVIOUR_NOTICES,
            specs.ENFORCE_TICKS,
            specs.ACTION_RESULTS,
            specs.IDENTITY_CLUSTERS,
            specs.REVIEWS,
        ),
        (specs.ACTIONS, specs.DECISIONS, specs.ENFORCE_TICKS, specs.IDENTITY_OVERRIDES),
    ),
    Stage(
        "rate_windows_bands",
        "rate_windows",
        (specs.SIDE,),
        (specs.BEHAVIOUR_NOTICES, specs.IDENTITY_SIGNALS),
    ),
    Stage(
        "linking",
        "linking",
        (specs.SIDE, specs.IDENTITY_SIGNALS, specs.IDENTITY_OVERRIDES),
        (specs.IDENTITY_SIGNALS, specs.IDENTITY_CLUSTERS),
    ),
)

INPUTS: tuple[Input, ...] = (
    # The main line: ingest → normalise → classify → rate windows → enforce, in one handler.
    Input(specs.RAW, "normalise", "onehop", _raw, Composition.on_raw),
    # The side branches: one record per comment for both the cross-author band index and the
    # linking index (its dead letters name the band stage, which reads it first).
    Input(
        specs.SIDE,
        "rate_windows_bands",
        "side-branches",
        SideRecord.from_bytes,
        Composition.on_side,
    ),
    Input(
        specs.BEHAVIOUR_NOTICES,
        "enforce",
        "enforce-notices",
        BehaviourNotice.from_bytes,
        Composition.on_notice,
    ),
    Input(specs.ENFORCE_TICKS, "enforce", "enforce-ticks", Tick.from_bytes, Composition.on_tick),
    Input(
        specs.ACTION_RESULTS,
        "enforce",
        "enforce-results",
        ActionResult.from_bytes,
        Composition.on_result,
    ),
    Input(
        specs.IDENTITY_CLUSTERS,
        "enforce",
        "enforce-clusters",
        ClusterMembership.from_bytes,
        Composition.on_cluster,
    ),
    # A person's decision from the moderator console (schemas/review.py).
    Input(specs.REVIEWS, "enforce", "enforce-reviews", Review.from_bytes, Composition.on_review),
    Input(
        specs.IDENTITY_SIGNALS,
        "linking",
        "linking-graph",
        LinkSignal.from_bytes,
        Composition.on_signal,
    ),
    # A reviewer's split of two accounts (from a console review): the graph stops linking them.
    Input(
        specs.IDENTITY_OVERRIDES,
        "linking",
        "linking-overrides",
        LinkOverride.from_bytes,
        Composition.on_override,
    ),
)

# Every topic the worker declares: inputs, then what it writes. Topics off the hot path
# (comments.assessed, written only when MODSTREAM_EMIT_ASSESSED is on) are declared too, so
# turning one on needs no new topic at run time.
WORKER_TOPICS: tuple[specs.TopicSpec, ...] = tuple(
    dict.fromkeys([i.topic for i in INPUTS] + [t for s in STAGES for t in s.outputs])
)

# Written only when a setting asks for it (MODSTREAM_EMIT_ASSESSED): a worker starts without it.
OPTIONAL_TOPICS: frozenset[specs.TopicSpec] = frozenset({specs.ASSESSED})

STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
STAGE_PACKAGES: tuple[str, ...] = tuple(dict.fromkeys(s.package for s in STAGES if s.package))


# What a side-role worker consumes (MODSTREAM_WORKER_ROLE=side): the side branches and the
# identity graph they feed; a main-role worker consumes every other input.
SIDE_ROLE_TOPICS: frozenset[specs.TopicSpec] = frozenset(
    {specs.SIDE, specs.IDENTITY_SIGNALS, specs.IDENTITY_OVERRIDES}
)


def inputs_of(role: str) -> tuple[Input, ...]:
    """The inputs a worker of ``role`` ("all", "main" or "side") consumes, in registry order."""
    if role == "all":
        return INPUTS
    if role not in ("main", "side"):
        raise ValueError(f"unknown worker role {role!r}")
    return tuple(i for i in INPUTS if (i.topic in SIDE_ROLE_TOPICS) == (role == "side"))


def input_for(topic: specs.TopicSpec) -> Input:
    for item in INPUTS:
        if item.topic is topic:
            return item
    raise KeyError(topic.name)
