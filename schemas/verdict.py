"""What classification (and the rate windows) found in one comment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.codec import dumps, loads
from schemas.comment import Comment


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector's hit, pointing into the comment's original text."""

    clause: str  # policy clause id, e.g. "abusive", "hate", "personal_care"
    detector: str  # detector id from the policy file, e.g. "lexicon.profanity"
    start: int  # [start, end) in Comment.text (the original, not the normalised form)
    end: int
    confidence: float  # 0..1
    severity: str  # "low" | "medium" | "high" | "critical"
    label: str = ""  # sub-label, e.g. the hate strand ("race"), or the rule name

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(**d)


@dataclass(frozen=True, slots=True)
class BehaviourFinding:
    """A finding about the author's recent behaviour rather than one comment's text."""

    kind: str  # "spamming" | "cross_author_spamming" | "frequent_inflammatory" | "flooding"
    window_s: int  # the window size that tripped
    count: int  # events counted in that window
    threshold: int  # the policy's threshold for this kind and window
    window_start_ms: int  # event-time start of the window
    comment_ids: tuple[str, ...] = ()  # the comments that make up the count (evidence)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BehaviourFinding:
        return cls(**{**d, "comment_ids": tuple(d.get("comment_ids", ()))})


@dataclass(frozen=True, slots=True)
class Verdict:
    """Key on ``comments.verdicts`` and ``comments.assessed``: ``comment.author_key``."""

    comment: Comment
    findings: tuple[Finding, ...]
    policy_version: str  # content hash of the policy file that produced the findings
    behaviour: tuple[BehaviourFinding, ...] = ()  # filled in by the rate-windows stage
    # "cy" | "en" | "und" (too short to tell): what the comment is mostly written in, and so
    # the language it is answered in (streams.classify.language).
    language: str = "und"
    # Every language the comment was classified under, sorted: ("cy", "en") when it mixes both
    # (or when the language is "und"); () on records written before languages were identified.
    languages: tuple[str, ...] = ()

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(sorted({f.clause for f in self.findings}))

    def to_bytes(self) -> bytes:
        return dumps(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        return cls(
            comment=Comment.from_dict(d["comment"]),
            findings=tuple(Finding.from_dict(f) for f in d["findings"]),
            policy_version=d["policy_version"],
            behaviour=tuple(BehaviourFinding.from_dict(b) for b in d.get("behaviour", ())),
            language=d.get("language", "und"),
            languages=tuple(d.get("languages", ())),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Verdict:
        return cls.from_dict(loads(data))


@dataclass(frozen=True, slots=True)
class BehaviourNotice:
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

    def to_bytes(self) -> bytes:
        return dumps(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BehaviourNotice:
        return cls(
            **{**d, "behaviour": tuple(BehaviourFinding.from_dict(b) for b in d["behaviour"])}
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> BehaviourNotice:
        return cls.from_dict(loads(data))
