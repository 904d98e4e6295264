"""The policy's detectors run over one comment, giving findings that point into its text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from schemas.comment import Comment
from schemas.verdict import Finding, Verdict
from streams.classify.composite import CompositeDetector
from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document
from streams.classify.group_attack import GroupAttackDetector
from streams.classify.language import identify, language_detector_version
from streams.classify.lexicon import LEXICON_DIR, Lexicon, LexiconError, load_lexicon
from streams.classify.matchers import LexiconDetector, PatternDetector
from streams.classify.models.detector import ModelDetector
from streams.classify.names import NameRegistry, RegistryDetector
from streams.classify.relevance import TopicRelevanceDetector
from streams.classify.repetition import RepetitionDetector
from streams.policy.model import DETECTOR_TYPES, Clause, DetectorSpec, Policy, PolicyError

Factory = Callable[[Params, BuildContext], Detector]

# Detector types by the name the policy file uses. streams.policy.model.DETECTOR_TYPES is the
# published list; a test keeps the two equal.
FACTORIES: Mapping[str, Factory] = {
    "lexicon": LexiconDetector,
    "pattern": PatternDetector,
    "registry": RegistryDetector,
    "topic_relevance": TopicRelevanceDetector,
    "composite": CompositeDetector,
    "repetition": RepetitionDetector,
    "model": ModelDetector,
    "group_attack": GroupAttackDetector,
}


class Classifier:
    """Built once per policy version; ``classify`` is pure and deterministic.

    Building validates everything the policy file can't say alone (word lists exist, regexes
    compile, params are known), raising PolicyError, so a bad policy is refused before use.
    """

    def __init__(
        self,
        policy: Policy,
        registry: NameRegistry | None = None,
        *,
        lexicon_dir: Path = LEXICON_DIR,
    ) -> None:
        self.policy = policy
        self._lexicon_dir = lexicon_dir
        self._lexicons: dict[str, Lexicon] = {}
        self._built: dict[str, Detector] = {}
        self._ctx = BuildContext(lexicon=self._lexicon, build=self._build, names=registry)
        self._detectors: tuple[tuple[Clause, DetectorSpec, Detector], ...] = tuple(
            (clause, spec, self._build_spec(clause, spec))
            for clause in policy.clauses.values()
            for spec in clause.detectors
        )
        self._fallback = {c.id: c.fallback for c in policy.clauses.values()}
        # Word lists ship with the code, not the policy file, so the policy version alone does
        # not pin them: this digest does, for audits and replay comparisons.
        digest = hashlib.sha256(policy.version.encode())
        # The language detector decides which detectors read a comment and which language it
        # is answered in, so its version is pinned too.
        digest.update(f"\nlingua {language_detector_version()}".encode())
        for name in sorted(self._lexicons):
            digest.update(f"\n{name}\n".encode())
            digest.update((lexicon_dir / f"{name}.txt").read_bytes())
        # Trained artefacts likewise: replay and audits pin the weights, not just their names.
        for name, sha256 in sorted(self.model_artefacts.items()):
            digest.update(f"\nmodel:{name}:{sha256}\n".encode())
        self.rules_digest = digest.hexdigest()[:16]

    def verdict(self, comment: Comment, policy_version: str) -> Verdict:
        """The comment's findings and language, as the classify stage publishes them."""
        reading = identify(comment.text)
        return Verdict(
            comment=comment,
            findings=self.classify_text(comment.text, comment.post_text, reading.languages),
            policy_version=policy_version,
            language=reading.language,
            languages=reading.languages,
        )

    @property
    def model_artefacts(self) -> dict[str, str]:
        """Artefact name -> sha256 of every trained model this policy uses."""
        return {
            d.models.name: d.models.sha256
            for d in self._built.values()
            if isinstance(d, ModelDetector)
        }

    def classify(self, comment: Comment) -> tuple[Finding, ...]:
        return self.classify_text(comment.text, comment.post_text, identify(comment.text).languages)

    def classify_text(
        self, text: str, post_text: str = "", languages: tuple[str, ...] = ()
    ) -> tuple[Finding, ...]:
        """``languages``: those the comment is classified under; () runs every detector."""
        doc = Document.build(text, post_text)
        findings: set[Finding] = set()
        for clause, spec, detector in self._detectors:
            if spec.languages and languages and not set(spec.languages) & set(languages):
                continue
            for hit in detector.hits(doc):
                if hit.confidence >= spec.threshold:
                    findings.add(
                        Finding(
                            clause=clause.id,
                            detector=spec.id,
                            start=hit.start,
                            end=hit.end,
                            confidence=round(hit.confidence, 4),
                            severity=clause.severity,
                            label=hit.label,
                        )
                    )
        if any(not self._fallback[f.clause] for f in findings):
            findings = {f for f in findings if not self._fallback[f.clause]}
        return tuple(sorted(findings, key=_finding_order))

    def _build_spec(self, clause: Clause, spec: DetectorSpec) -> Detector:
        return self._build(spec.type, spec.params, f"clause '{clause.id}' detector '{spec.id}'")

    def _build(self, dtype: str, params: Mapping[str, Any], where: str) -> Detector:
        # Identical specs share one detector, so a list used by two clauses runs once a comment.
        key = json.dumps([dtype, _plain(params)], sort_keys=True)
        if key not in self._built:
            factory = FACTORIES.get(dtype)
            if factory is None:
                raise PolicyError(
                    f"{where}: type {dtype!r} unknown; use {', '.join(DETECTOR_TYPES)}"
                )
            reader = Params(params, where)
            detector = factory(reader, self._ctx)
            reader.check_all_used()
            self._built[key] = detector
        return self._built[key]

    def _lexicon(self, name: str, params: Params) -> Lexicon:
        if name not in self._lexicons:
            try:
                self._lexicons[name] = load_lexicon(name, self._lexicon_dir)
            except LexiconError as exc:
                raise params.error(str(exc)) from exc
        return self._lexicons[name]


def _finding_order(f: Finding) -> tuple[int, str, str, int, str]:
    return (f.start, f.clause, f.detector, f.end, f.label)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
