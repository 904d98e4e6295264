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
# The side branches' inputs: ONE record per comment, on ONE partition. One consumer sees every
# author's copies (cross-author copies meet without a key per band or per index key), in one
# total order that the log records. The topic is also the branch's state log: the worker keeps
# the band index (resp. the linking index) in memory and rebuilds it after a restart or a
# rebalance by re-reading the retained records before the committed offset, so no changelog
# record is written per key (docs/replay.md, "Side branches"). Retention covers what the state
# can still need, plus slack: the band window and lateness (15 minutes) in wall-clock time;
# linking's 90-day expiry (linking.expiry_days). ``.v2``: the pre-issue-17 topics had the
# deployment's partition count and one record per key (docs/operations.md, migration).
SIDE_BRANCH_SLACK_MS = 86_400_000
BANDS = TopicSpec(
    "rate_windows.bands.v2",
    "author key (one partition: the key only labels the record)",
    "a JSON list of streams.rate_windows.cross_author.BandEntry (one comment's band keys)",
    retention_ms=SIDE_BRANCH_SLACK_MS,
    partitions=1,
)
BEHAVIOUR_NOTICES = TopicSpec("behaviour.notices", "author key", "schemas.verdict.BehaviourNotice")
DEADLETTER = TopicSpec("comments.deadletter", "original key", "schemas.deadletter.DeadLetter")
IDENTITY_INDEX = TopicSpec(
    "identity.index.v2",
    "author key (one partition: the key only labels the record)",
    "schemas.comment.Comment",  # filed under each of streams.linking.signals.index_keys
    retention_ms=90 * 86_400_000 + SIDE_BRANCH_SLACK_MS,
    partitions=1,
)
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
    BANDS,
    BEHAVIOUR_NOTICES,
    DEADLETTER,
    IDENTITY_INDEX,
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
