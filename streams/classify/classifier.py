"""The policy's detectors run over one comment, giving findings that point into its text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from schemas.comment import Comment
from schemas.verdict import Finding, Verdict
from streams.classify.composite import CompositeDetector
from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document
from streams.classify.group_attack import GroupAttackDetector
from streams.classify.lexicon import LEXICON_DIR, Lexicon, LexiconError, load_lexicon
from streams.classify.matchers import LexiconDetector, PatternDetector
from streams.classify.models.cascade_detector import CascadeDetector
from streams.classify.models.detector import ModelDetector
from streams.classify.names import NameRegistry, RegistryDetector
from streams.classify.prefilter import Prefilter
from streams.classify.relevance import TopicRelevanceDetector
from streams.classify.repetition import RepetitionDetector, alone_makes_findings
from streams.language import LanguageReading, identify, language_detector_version
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
    "cascade": CascadeDetector,
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
        prefilter: bool = True,
    ) -> None:
        """``prefilter=False`` runs every detector on every comment with ``re`` alone (slower,
        same findings): the reference the prefilter is tested against."""
        self.policy = policy
        self._lexicon_dir = lexicon_dir
        self._lexicons: dict[str, Lexicon] = {}
        self._built: dict[str, Detector] = {}
        self._prefilter = Prefilter() if prefilter else None
        self._ctx = BuildContext(
            lexicon=self._lexicon, build=self._build, names=registry, prefilter=self._prefilter
        )
        self._detectors: tuple[tuple[Clause, DetectorSpec, Detector], ...] = tuple(
            (clause, spec, self._build_spec(clause, spec))
            for clause in policy.clauses.values()
            for spec in clause.detectors
        )
        for _, spec, detector in self._detectors:
            detector.serve(spec.threshold)
        self._fallback = {c.id: c.fallback for c in policy.clauses.values()}
        # Each distinct top-level detector once, with the (clause, spec) pairs it serves.
        served: dict[int, tuple[Detector, list[tuple[Clause, DetectorSpec]]]] = {}
        for clause, spec, detector in self._detectors:
            served.setdefault(id(detector), (detector, []))[1].append((clause, spec))
        self._top: tuple[tuple[Detector, tuple[tuple[Clause, DetectorSpec], ...]], ...] = tuple(
            (detector, tuple(specs)) for detector, specs in served.values()
        )
        self._live = _LiveIndex(self._top, self._prefilter)
        # Per top-level detector, what a finding needs from each spec it serves, flattened once
        # (the per-comment loop is hot): clause, spec id, severity, threshold, languages.
        self._served: tuple[tuple[_Served, ...], ...] = tuple(
            tuple(
                _Served(
                    clause.id,
                    spec.id,
                    clause.severity,
                    spec.threshold,
                    frozenset(spec.languages) if spec.languages else None,
                )
                for clause, spec in specs
            )
            for _, specs in self._top
        )
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
        """The comment's findings, as the classify stage publishes them.

        Its language is on the verdict only when classifying it needed the language (a
        Welsh-only detector hit at its threshold); otherwise ``language`` is None, and
        enforcement identifies it where a reply, notice or review lane needs it
        (``streams.enforce.logic``). Language identification costs more than classifying, and
        most comments are answered by nobody."""
        findings, reading = self._one(comment.text, comment.post_text)
        return Verdict(
            comment=comment,
            findings=findings,
            policy_version=policy_version,
            language=None if reading is None else reading.language,
            languages=() if reading is None else reading.languages,
        )

    @property
    def model_artefacts(self) -> dict[str, str]:
        """Artefact name -> sha256 of every trained model this policy uses."""
        found = {
            d.models.name: d.models.sha256
            for d in self._built.values()
            if isinstance(d, ModelDetector)
        }
        # The encoder cascade's heads, and the encoder weights they read.
        for d in self._built.values():
            if isinstance(d, CascadeDetector):
                found[d.heads.card["name"]] = d.heads.sha256
                found["encoder"] = d.heads.encoder_sha256
        return found

    def classify(self, comment: Comment) -> tuple[Finding, ...]:
        return self.classify_one(comment.text, comment.post_text)

    def classify_text(
        self, text: str, post_text: str = "", languages: tuple[str, ...] = ()
    ) -> tuple[Finding, ...]:
        """``languages``: those the comment is classified under; () runs every detector."""
        doc = Document.build(text, post_text)
        if self._prefilter is not None:
            self._prefilter.scan(doc)
        return self._findings(doc, languages=languages)

    def classify_batch(self, items: Iterable[Comment | str]) -> list[tuple[Finding, ...]]:
        """Findings per comment (or per bare text, with no post), in order; the same as
        ``classify`` one at a time. Each detector sees the whole batch at once
        (``Detector.hits_batch``), so one that vectorises (a trained model) can."""
        docs = [
            Document.build(item, "")
            if isinstance(item, str)
            else Document.build(item.text, item.post_text)
            for item in items
        ]
        if self._prefilter is not None:
            self._prefilter.scan_all(docs)
        live = [self._live.top(doc) for doc in docs]
        batches: dict[int, list[Document]] = {}
        for doc, indices in zip(docs, live, strict=True):
            for index in indices:
                batches.setdefault(index, []).append(doc)
        for index, batch in batches.items():
            self._top[index][0].hits_batch(batch)
        return [
            self._findings(doc, on, _LazyLanguages(doc.original))
            for doc, on in zip(docs, live, strict=True)
        ]

    def classify_one(self, text: str, post_text: str = "") -> tuple[Finding, ...]:
        """One comment's findings under the languages it is written in: the same as
        ``classify_batch([text])[0]`` and as ``classify``, without the batch's bookkeeping."""
        return self._one(text, post_text)[0]

    def _one(self, text: str, post_text: str) -> tuple[tuple[Finding, ...], LanguageReading | None]:
        """One comment's findings, and its language if finding them needed it."""
        doc = Document.build(text, post_text)
        if self._prefilter is not None:
            self._prefilter.scan(doc)
        languages = _LazyLanguages(text)
        return self._findings(doc, languages=languages), languages.reading

    def _findings(
        self,
        doc: Document,
        live: list[int] | None = None,
        languages: tuple[str, ...] | _LazyLanguages = (),
    ) -> tuple[Finding, ...]:
        """``languages``: those the comment is classified under (() reads every detector), or a
        ``_LazyLanguages`` that identifies them only when a language-restricted detector has a
        hit at its threshold, the only case in which they can change a finding."""
        lazy, known = (
            (languages, frozenset[str]())
            if isinstance(languages, _LazyLanguages)
            else (None, frozenset(languages))
        )
        findings: set[Finding] = set()
        for index in self._live.top(doc) if live is None else live:
            served = self._served[index]
            if known and all(s.languages is not None and not s.languages & known for s in served):
                continue  # no spec of it reads this comment's languages
            hits = self._top[index][0].hits(doc)
            if not hits:
                continue
            for spec in served:
                passing = [hit for hit in hits if hit.confidence >= spec.threshold]
                if not passing:
                    continue
                if spec.languages is not None:
                    reading = known if lazy is None else lazy.get()
                    if reading and not spec.languages & reading:
                        continue
                for hit in passing:
                    findings.add(
                        Finding(
                            clause=spec.clause,
                            detector=spec.detector,
                            start=hit.start,
                            end=hit.end,
                            confidence=round(hit.confidence, 4),
                            severity=spec.severity,
                            label=hit.label,
                        )
                    )
        if any(not self._fallback[f.clause] for f in findings):
            findings = {f for f in findings if not self._fallback[f.clause]}
        return tuple(sorted(findings, key=_finding_order))

    def _build_spec(self, clause: Clause, spec: DetectorSpec) -> Detector:
        where = f"clause '{clause.id}' detector '{spec.id}'"
        detector = self._build(spec.type, spec.params, where)
        if clause.kind == "violation" and alone_makes_findings(detector):
            raise PolicyError(
                f"{where}: repetition inside one comment is never a breach by itself (a long or "
                "repetitive complaint is not spam; posts repeated across comments are the rate "
                "windows' to count): use it only in an all_of with another signal"
            )
        return detector

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


class _LiveIndex:
    """Which top-level detectors can hit a scanned document, without asking each one.

    ``may_hit`` only ever asks whether probes fired, so it is monotone in the fired set: a
    detector that can hit is either one that can with nothing but the always-possible probes
    fired (computed once here), or one that reads a probe that fired. Only those are asked.
    """

    def __init__(
        self,
        top: Sequence[tuple[Detector, Sequence[object]]],
        prefilter: Prefilter | None,
    ) -> None:
        self._detectors = tuple(d for d, _ in top)
        self._prefilter = prefilter
        self._all = list(range(len(top)))
        if prefilter is None:
            self._static: list[int] = self._all
            self._by_probe: dict[int, tuple[int, ...]] = {}
            return
        prefilter.compile()
        quiet = Document.build("")
        quiet.fired, quiet.unscanned = prefilter.always, frozenset()
        self._static = [i for i, d in enumerate(self._detectors) if d.may_hit(quiet)]
        by_probe: dict[int, list[int]] = {}
        for index, detector in enumerate(self._detectors):
            if index not in self._static:
                for probe_id in detector.probe_ids():
                    by_probe.setdefault(probe_id, []).append(index)
        self._by_probe = {k: tuple(v) for k, v in by_probe.items()}

    def top(self, doc: Document) -> list[int]:
        """Indices of the top-level detectors that may hit ``doc``."""
        if self._prefilter is None:
            return self._all
        if doc.unscanned:
            return [i for i, d in enumerate(self._detectors) if d.may_hit(doc)]
        live = list(self._static)
        asked: set[int] = set()
        by_probe, detectors = self._by_probe, self._detectors
        for probe_id in doc.fired:
            for index in by_probe.get(probe_id, ()):
                if index not in asked:
                    asked.add(index)
                    if detectors[index].may_hit(doc):
                        live.append(index)
        return live


class _Served(NamedTuple):
    clause: str
    detector: str
    severity: str
    threshold: float
    languages: frozenset[str] | None  # None: reads every comment


class _LazyLanguages:
    """A comment's languages, identified on first need: language identification (lingua) costs
    more than every detector together, and only a language-restricted detector's hit at its
    threshold ever needs it, which few comments have."""

    __slots__ = ("_languages", "_text", "reading")

    def __init__(self, text: str) -> None:
        self._text = text
        self._languages: frozenset[str] | None = None
        self.reading: LanguageReading | None = None  # once identified

    def get(self) -> frozenset[str]:
        if self._languages is None:
            self.reading = identify(self._text)
            self._languages = frozenset(self.reading.languages)
        return self._languages


def _finding_order(f: Finding) -> tuple[int, str, str, int, str]:
    return (f.start, f.clause, f.detector, f.end, f.label)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
