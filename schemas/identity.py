"""Sock-puppet linking records: evidence between two accounts, the clusters it builds, and the
reviewer's word on a pair.

The policy promises "the same action against accounts which we have reasonable cause to
believe are from the same user"; these records carry that cause. Every field that names an
account holds its pseudonymous author key; evidence strings describe what matched (a kind of
match, a gap in seconds, a count) and never quote comment text, handles, names or platform ids.
"""

from __future__ import annotations

from schemas.codec import Record

# Frozen once deployed: per-kind weights in the policy file and stored graph snapshots name them.
LINK_KINDS = (
    "shared_signal",  # the same platform device/network hash on both accounts' comments
    "name",  # handles that differ only in digits or punctuation, or identical display names
    "co_timing",  # replies to the same post seconds apart
    "near_duplicate",  # near-copies of the same text posted minutes apart
    "writing_style",  # character 3-gram profiles of recent texts alike
)
OVERRIDE_ACTIONS = ("split", "merge")
REVIEWER_MERGE = "reviewer_merge"  # the kind shown on a cluster edge a reviewer forced


def ordered_pair(x: str, y: str) -> tuple[str, str]:
    """The pair in sorted order: one pair always reads (and is stored) the same way."""
    if x == y:
        raise ValueError("a link needs two different accounts")
    return (x, y) if x < y else (y, x)


def _check_pair(author_a: str, author_b: str, record: str) -> None:
    if not author_a or not author_b or author_a >= author_b:
        raise ValueError(f"{record}: author_a must sort strictly before author_b")


class LinkSignal(Record, frozen=True):
    """One observation that two accounts may be one person.

    Key on ``identity.signals``: the index key the observation was made under (a device hash,
    a post, a name stem or a fingerprint band), so one key's extractor state stays on one
    partition.
    """

    kind: str  # one of LINK_KINDS
    author_a: str  # pseudonymous author key; the pair is in sorted order (author_a < author_b)
    author_b: str
    weight: float  # 0..1: how telling this one observation is; the policy's kind weight scales it
    evidence: str  # what matched, for a reviewer: never raw text, names, handles or platform ids
    event_time_ms: int  # event time of the later of the two comments
    source_ids: tuple[str, ...]  # the comment ids the observation came from

    def __post_init__(self) -> None:
        _check_pair(self.author_a, self.author_b, "LinkSignal")
        if self.kind not in LINK_KINDS:
            raise ValueError(f"LinkSignal.kind {self.kind!r} is not one of {LINK_KINDS}")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"LinkSignal.weight must be between 0 and 1, got {self.weight!r}")


class EdgeStep(Record, frozen=True):
    """A linked pair's score from one event time on, until its next step."""

    event_time_ms: int
    score: float
    kinds: tuple[str, ...]  # evidence kinds that contributed by then, sorted


class ClusterEdge(Record, frozen=True):
    """One linked pair inside a cluster and the kinds of evidence that carried it.

    ``since_ms`` and ``steps`` say the same in event time, so that what a linked block cites
    is the pair as of the block's event time, whatever the graph had learnt by the time the
    block met this record (``streams.linking.evidence``). Records written before they existed
    have neither: they are cited as they are."""

    author_a: str  # sorted pair of pseudonymous author keys
    author_b: str
    score: float  # combined score of the pair (1.0 for a reviewer's merge)
    kinds: tuple[str, ...]  # evidence kinds that contributed, sorted (or "reviewer_merge")
    # Event time of the observation that linked the pair (a merge: the reviewer's at_ms).
    since_ms: int = 0
    # The score from ``since_ms`` on, in event time: the pair as of any time after it linked.
    steps: tuple[EdgeStep, ...] = ()


class ClusterMembership(Record, frozen=True):
    """Which accounts one account is linked with, as of one event time.

    Key on ``identity.clusters`` (compacted): ``author_key``, so the latest record per account
    is its current cluster. A single-member record says the account is linked to nobody (it
    left a cluster through expiry or a reviewer's split).
    """

    cluster_id: str  # derived from the smallest member key: the same members give the same id
    author_key: str  # the account this record is about
    members: tuple[str, ...]  # every account in the cluster, sorted, author_key included
    edges: tuple[ClusterEdge, ...]  # the linked pairs within the cluster, sorted
    score: float  # the weakest link that holds the cluster together (0.0 for a single member)
    event_time_ms: int  # event time of the change that produced this record


class LinkOverride(Record, frozen=True):
    """A reviewer's decision on one pair; the latest decision on a pair stands for good.

    "split": the two accounts are not one person; they never link again, directly or through
    other accounts. "merge": they are one person whatever the evidence says.
    """

    author_a: str  # sorted pair of pseudonymous author keys
    author_b: str
    action: str  # one of OVERRIDE_ACTIONS
    reviewer: str  # who decided (a staff identifier, not a platform account)
    reason: str  # why, in the reviewer's words
    at_ms: int  # when the decision was recorded (UTC epoch ms); orders decisions on one pair

    def __post_init__(self) -> None:
        _check_pair(self.author_a, self.author_b, "LinkOverride")
        if self.action not in OVERRIDE_ACTIONS:
            raise ValueError(
                f"LinkOverride.action {self.action!r} is not one of {OVERRIDE_ACTIONS}"
            )
        if not self.reviewer.strip() or not self.reason.strip():
            raise ValueError("LinkOverride needs a reviewer and a reason")
