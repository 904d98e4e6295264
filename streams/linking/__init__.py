"""Sock-puppet linking: observations that two accounts are one person, weighed in an identity
graph into clusters with an evidence trail. Pure logic; a stage's Faust wiring goes in
``agents.py``.

The policy: "We will take the same action against accounts which we have reasonable cause to
believe are from the same user." Reasonable cause here means evidence of at least two
independent kinds, each shown to a reviewer with its weight and time, and a reviewer's split
always stands.
"""

from streams.linking.config import LinkingConfig
from streams.linking.explain import PairExplanation, explain_pair, render
from streams.linking.graph import IdentityGraph, cluster_id, combine, kind_score
from streams.linking.signals import (
    KeyState,
    StyleProfile,
    display_name_similarity,
    handle_similarity,
    index_keys,
    near_duplicate_signal,
    observe_key,
    style_signal,
    style_similarity,
)

__all__ = [
    "IdentityGraph",
    "KeyState",
    "LinkingConfig",
    "PairExplanation",
    "StyleProfile",
    "cluster_id",
    "combine",
    "display_name_similarity",
    "explain_pair",
    "handle_similarity",
    "index_keys",
    "kind_score",
    "near_duplicate_signal",
    "observe_key",
    "render",
    "style_signal",
    "style_similarity",
]
