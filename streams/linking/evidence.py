"""What a linked account's block cites: the author's cluster as of the block's event time.

A block reaches the accounts linked to its author by decisions of their own, whenever the block
and a cluster membership naming the account have both been seen (``streams.enforce.logic.
reach_linked``). The membership is the identity graph's latest word, and how much the graph had
learnt when the block met it depends on how far the linking branch had caught up: live, the
branch lags the main line; in replay it runs at once; and the graph meets signals in whatever
order the raw partitions interleaved. Citing the membership as it stood made the action's text
a function of that race (docs/replay.md, "Linking in event time").

So the citation is computed from the event times every cluster edge carries (``since_ms``, when
the pair linked, and ``steps``, its score from then on): the edges linked before the block's
event time, with their scores as of then. An account linked to the author only after the block
is cited as of the moment it joined (the first edge that connected it). The blocking comment's
own signals are left out (strictly before its event time): they reach the graph after the
block is decided, live and in replay alike.

What is cited is the chain of links that joins the account to the author (the path between
them in the strongest spanning tree of those edges), each link with its score and kinds as of
then, not the whole cluster: it is what the reviewer must defend for this account, and it is
the part least likely to change with a late signal elsewhere in the cluster. The whole
cluster, with every observation, is what ``modstream links explain`` and the console show.
The result is a function of the observations' event times, not of arrival order; it differs
only if the graph had not yet seen a signal older than the horizon on the chain when the block
met the membership (docs/replay.md says when that can happen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.identity import ClusterEdge, ClusterMembership
from streams.linking.graph import cluster_id


@dataclass(frozen=True, slots=True)
class CitedCluster:
    """The author's cluster as one linked block cites it."""

    cluster_id: str
    members: tuple[str, ...]
    edges: tuple[ClusterEdge, ...]  # each as of ``at_ms``: score and kinds of then
    score: float  # the weakest link of the strongest spanning tree, as of ``at_ms``
    at_ms: int | None  # None: a membership written before edges carried event times
    chain: tuple[ClusterEdge, ...] = ()  # from the author to the member, in path order


def cluster_as_of(membership: ClusterMembership, member: str, blocked_ms: int) -> CitedCluster:
    """The cluster joining ``membership.author_key`` and ``member`` as of just before
    ``blocked_ms``, or as of when ``member`` joined it, if later."""
    if any(not e.steps and e.since_ms == 0 for e in membership.edges):
        # Written before edges carried their event times: cite it as it is.
        return CitedCluster(
            membership.cluster_id, membership.members, membership.edges, membership.score, None
        )
    edges = sorted(membership.edges, key=lambda e: (e.since_ms, e.author_a, e.author_b))
    root = _UnionFind(membership.members)
    author = membership.author_key
    at = blocked_ms - 1
    joined = 0
    while joined < len(edges) and edges[joined].since_ms <= at:
        root.join(edges[joined].author_a, edges[joined].author_b)
        joined += 1
    while root.find(author) != root.find(member) and joined < len(edges):
        # Linked after the block: cited as of the moment it joined the author's cluster.
        at = edges[joined].since_ms
        while joined < len(edges) and edges[joined].since_ms == at:
            root.join(edges[joined].author_a, edges[joined].author_b)
            joined += 1
    home = root.find(author)
    members = tuple(m for m in membership.members if root.find(m) == home)
    cited = tuple(
        sorted(
            (_edge_as_of(e, at) for e in edges[:joined] if root.find(e.author_a) == home),
            key=lambda e: (e.author_a, e.author_b),
        )
    )
    tree = _strongest_tree(members, cited)
    chain = _path(tree, author, member)
    return CitedCluster(cluster_id(members), members, cited, _weakest_link(tree), at, chain)


def cite(membership: ClusterMembership, member: str, blocked_ms: int) -> str:
    """Why ``member`` shares the block (pseudonymous keys only): the chain of links from the
    author to it as of the block, each with its score and kinds, and the chain's weakest link.
    A membership written before edges carried event times is cited whole, as it was."""
    cited = cluster_as_of(membership, member, blocked_ms)
    if cited.at_ms is None:
        return (
            f"cluster {cited.cluster_id} of {len(cited.members)} accounts, "
            f"score {cited.score:.2f}; links: {_links(cited.edges)}; member {member[:8]}"
        )
    weakest = min((e.score for e in cited.chain), default=0.0)
    return (
        f"linked as of {_iso(cited.at_ms)} by a chain of {len(cited.chain)}, "
        f"weakest {weakest:.2f}: {_links(cited.chain)}; member {member[:8]}"
    )


def _links(edges: tuple[ClusterEdge, ...]) -> str:
    return "; ".join(
        f"{e.author_a[:8]}~{e.author_b[:8]} {e.score:.2f} ({', '.join(e.kinds)})" for e in edges
    )


def _edge_as_of(edge: ClusterEdge, at_ms: int) -> ClusterEdge:
    """The edge's score and kinds at ``at_ms`` (a reviewer's merge has one, from its time)."""
    step = next((s for s in reversed(edge.steps) if s.event_time_ms <= at_ms), None)
    if step is None:
        return ClusterEdge(edge.author_a, edge.author_b, edge.score, edge.kinds)
    return ClusterEdge(edge.author_a, edge.author_b, step.score, step.kinds)


def _strongest_tree(
    members: tuple[str, ...], edges: tuple[ClusterEdge, ...]
) -> tuple[ClusterEdge, ...]:
    """The strongest spanning tree (Kruskal, strongest first, ties by pair)."""
    root = _UnionFind(members)
    ordered = sorted(edges, key=lambda e: (-e.score, e.author_a, e.author_b))
    return tuple(e for e in ordered if root.join(e.author_a, e.author_b))


def _weakest_link(tree: tuple[ClusterEdge, ...]) -> float:
    """The weakest edge of the strongest spanning tree (the graph's own cluster score)."""
    return round(min((e.score for e in tree), default=0.0), 6)


def _path(tree: tuple[ClusterEdge, ...], start: str, end: str) -> tuple[ClusterEdge, ...]:
    """The tree's edges from ``start`` to ``end``, in order (none if they are not joined)."""
    via: dict[str, list[tuple[str, ClusterEdge]]] = {}
    for e in tree:
        via.setdefault(e.author_a, []).append((e.author_b, e))
        via.setdefault(e.author_b, []).append((e.author_a, e))
    came: dict[str, tuple[str, ClusterEdge] | None] = {start: None}
    pending = [start]
    while pending:
        node = pending.pop()
        for other, edge in via.get(node, ()):
            if other not in came:
                came[other] = (node, edge)
                pending.append(other)
    if end not in came:
        return ()
    path = []
    step = came[end]
    while step is not None:
        node, edge = step
        path.append(edge)
        step = came[node]
    return tuple(reversed(path))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _UnionFind:
    def __init__(self, nodes: tuple[str, ...]) -> None:
        self._parent = {n: n for n in nodes}

    def find(self, node: str) -> str:
        parent = self._parent.setdefault(node, node)
        while parent != node:
            self._parent[node] = self._parent[parent]
            node, parent = parent, self._parent[parent]
        return node

    def join(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self._parent[max(ra, rb)] = min(ra, rb)
        return True
