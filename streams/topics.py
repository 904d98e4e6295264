"""Every topic the pipeline uses, declared once: name, key, record type and partition count.

Names are frozen once deployed: a breaking change to a record gets a new versioned name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    key: str  # what the message key is, for people reading the contract
    record: str  # the schemas/ record carried, or "platform JSON"
    compacted: bool = False
    retention_ms: int | None = None  # None: broker default
    partitions: int | None = None  # None: the deployment's partition count


RAW = TopicSpec("comments.raw", "platform:account id (as the connector sends it)", "platform JSON")
NORMALISED = TopicSpec("comments.normalised", "author key", "schemas.comment.Comment")
VERDICTS = TopicSpec("comments.verdicts", "author key", "schemas.verdict.Verdict")
ASSESSED = TopicSpec("comments.assessed", "author key", "schemas.verdict.Verdict")
# The side branches' input: ONE record per comment for both branches (its band entries and,
# when it has index keys, the comment), on ONE partition. One consumer sees every author's
# copies (cross-author copies meet without a key per band or per index key), in one total order
# that the log records. The topic is also the branches' state log: the worker keeps the band
# index and the linking index in memory and rebuilds them after a restart or a rebalance by
# re-reading the retained records before the committed offset, so no changelog record is
# written per key (docs/replay.md, "Side branches"). Retention covers what the state can still
# need, plus slack: linking's 90-day expiry (linking.expiry_days); the band index needs only
# its window and lateness (15 minutes) in wall-clock time, so a rebuild folds the band entries
# of the last BAND_REBUILD_HORIZON_MS only. Before, the two branches had a topic each
# (``rate_windows.bands.v2``, ``identity.index.v2``; before those, the deployment's partition
# count and one record per key): docs/operations.md, migration.
SIDE_BRANCH_SLACK_MS = 86_400_000
BAND_REBUILD_HORIZON_MS = SIDE_BRANCH_SLACK_MS  # what rate_windows.bands.v2 retained
SIDE = TopicSpec(
    "comments.side",
    "author key (one partition: the key only labels the record)",
    "schemas.side.SideRecord",
    retention_ms=90 * 86_400_000 + SIDE_BRANCH_SLACK_MS,
    partitions=1,
)
BEHAVIOUR_NOTICES = TopicSpec("behaviour.notices", "author key", "schemas.verdict.BehaviourNotice")
DEADLETTER = TopicSpec("comments.deadletter", "original key", "schemas.deadletter.DeadLetter")
# One partition: the identity graph's clusters are connected components across all accounts,
# so one worker folds every signal. Retained as long as an edge can live (linking.expiry_days):
# the graph is rebuilt from this log.
IDENTITY_SIGNALS = TopicSpec(
    "identity.signals",
    "constant",
    "schemas.identity.LinkSignal",
    retention_ms=90 * 86_400_000,
    partitions=1,
)
# A reviewer's split (or merge) of two accounts, from a console review: the identity graph
# applies it and never links the pair again. Compacted by pair (the latest decision on a pair
# stands for good) and read back whole when the graph is rebuilt; one partition, like the graph.
IDENTITY_OVERRIDES = TopicSpec(
    "identity.overrides",
    "sorted author pair 'a|b'",
    "schemas.identity.LinkOverride",
    compacted=True,
    partitions=1,
)
IDENTITY_CLUSTERS = TopicSpec(
    "identity.clusters", "author key", "schemas.identity.ClusterMembership", compacted=True
)
POLICY = TopicSpec("policy.versions", "policy name", "policy YAML text", compacted=True)
ENFORCE_TICKS = TopicSpec("enforce.ticks", "author key", "schemas.action.Tick")
ACTIONS = TopicSpec("actions", "target author key", "schemas.action.Action")
ACTION_RESULTS = TopicSpec("actions.results", "target author key", "schemas.action.ActionResult")
DECISIONS = TopicSpec("decisions", "decision id", "schemas.action.Decision", compacted=True)
# A person's decisions from the moderator console: an input to enforcement like any other.
REVIEWS = TopicSpec("reviews", "author key", "schemas.review.Review")

ALL = (
    RAW,
    NORMALISED,
    VERDICTS,
    ASSESSED,
    SIDE,
    BEHAVIOUR_NOTICES,
    DEADLETTER,
    IDENTITY_SIGNALS,
    IDENTITY_OVERRIDES,
    IDENTITY_CLUSTERS,
    POLICY,
    ENFORCE_TICKS,
    ACTIONS,
    ACTION_RESULTS,
    DECISIONS,
    REVIEWS,
)
