"""The campaign notice for one comment: what enforce is told when ``observe_band`` finds that a
comment is part of a copy-paste campaign across accounts.

A pure function of the comment and the policy, deliberately: the same comment becomes a member
on several fingerprint slices, and, live, on whichever copy happens to arrive last, which Kafka
does not record. Had the notice listed the copies seen so far, or named the message that
completed the campaign, its bytes (and so the decision enforce records about it) would depend
on that order; this way every slice, every arrival order and every replay gives the same bytes,
and enforce acts once (decision ids derive from comment, kind and policy version).

What it says: at least ``min_authors`` accounts, this comment's own included, posted
near-copies of it within ``window_s`` either side of it. ``count`` is therefore the threshold
met, not a tally that would depend on how many copies had arrived. The accounts themselves are
reported as link evidence on ``identity.signals``, pair by pair.
"""

from __future__ import annotations

from schemas.verdict import BehaviourFinding, BehaviourNotice
from streams.rate_windows.config import WindowConfig
from streams.rate_windows.cross_author import BandPost

KIND = "cross_author_spamming"


def campaign_finding(member: BandPost, cfg: WindowConfig) -> BehaviourFinding:
    ca = cfg.cross_author
    return BehaviourFinding(
        kind=KIND,
        window_s=ca.window_s,
        count=ca.min_authors,
        threshold=ca.min_authors,
        window_start_ms=member.event_time_ms - ca.window_s * 1000,
        comment_ids=(member.comment_id,),
    )


def campaign_notice(member: BandPost, policy_version: str, cfg: WindowConfig) -> BehaviourNotice:
    """For ``behaviour.notices``, keyed by ``member.author_key``. Its event time is the
    comment's own and its source the comment's offset on ``comments.raw``: both facts of the
    comment, the same live and in replay."""
    return BehaviourNotice(
        author_key=member.author_key,
        comment_id=member.comment_id,
        platform=member.comment_id.split(":", 1)[0],
        event_time_ms=member.event_time_ms,
        source=member.source,
        policy_version=policy_version,
        behaviour=(campaign_finding(member, cfg),),
    )
