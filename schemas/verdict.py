"""What classification (and the rate windows) found in one comment."""

from __future__ import annotations

from schemas.codec import Record
from schemas.comment import Comment


class Finding(Record, frozen=True):
    """One detector's hit, pointing into the comment's original text."""

    clause: str  # policy clause id, e.g. "abusive", "hate", "personal_care"
    detector: str  # detector id from the policy file, e.g. "lexicon.profanity"
    start: int  # [start, end) in Comment.text (the original, not the normalised form)
    end: int
    confidence: float  # 0..1
    severity: str  # "low" | "medium" | "high" | "critical"
    label: str = ""  # sub-label, e.g. the hate strand ("race"), or the rule name


class BehaviourFinding(Record, frozen=True):
    """A finding about the author's recent behaviour rather than one comment's text."""

    kind: str  # "spamming" | "cross_author_spamming" | "frequent_inflammatory" | "flooding"
    window_s: int  # the window size that tripped
    count: int  # events counted in that window
    threshold: int  # the policy's threshold for this kind and window
    window_start_ms: int  # event-time start of the window
    comment_ids: tuple[str, ...] = ()  # the comments that make up the count (evidence)


class Verdict(Record, frozen=True):
    """Key on ``comments.verdicts`` and ``comments.assessed``: ``comment.author_key``."""

    comment: Comment
    findings: tuple[Finding, ...]
    policy_version: str  # content hash of the policy file that produced the findings
    behaviour: tuple[BehaviourFinding, ...] = ()  # filled in by the rate-windows stage
    # "cy" | "en" | "und" (too short to tell): what the comment is mostly written in
    # (streams.language), or None when classifying it did not need the language (no
    # Welsh-only detector hit): identification costs more than classifying, so enforcement
    # identifies it only where a reply, notice or review lane needs it
    # (streams.enforce.logic._audience). Records before issue 16 item 7 always carry it.
    language: str | None = None
    # Every language the comment was classified under, sorted: ("cy", "en") when it mixes both
    # (or when the language is "und"); () when ``language`` is None.
    languages: tuple[str, ...] = ()

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(sorted({f.clause for f in self.findings}))


class BehaviourNotice(Record, frozen=True):
    """Behaviour found about a comment after it was decided: a copy-paste campaign across
    accounts shows only once enough accounts have posted. Key on ``behaviour.notices``: the
    author key of the comment it is about."""

    author_key: str
    comment_id: str
    platform: str
    event_time_ms: int
    source: str  # "topic[partition]@offset" of the input that revealed the behaviour
    policy_version: str
    behaviour: tuple[BehaviourFinding, ...]
