"""The whole classifier (rules and models, as the policy combines them) on the corpora's test
splits: per clause, precision/recall/F1 on each corpus that defines it, and how many clean
rows of every corpus any violation clause flags.

Only the test split is read: the models never trained on it and no threshold was chosen on
it. A corpus row is positive for a clause when it is positive for the target that serves the
clause (``training.CLAUSE_OF``), so "offensive" tweets are scored against ``abusive``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from streams.classify.classifier import Classifier
from streams.classify.models.corpora import CORPORA, TARGETS, CorpusRow, load_all
from streams.classify.models.training import CLAUSE_OF, OWN_CORPORA, Counts


@dataclass
class CorpusReport:
    # (clause, corpus) -> counts on that corpus's labelled test rows
    per_clause: dict[tuple[str, str], Counts] = field(default_factory=dict)
    # corpus -> its clean test rows (labelled negative for every target it annotated)
    clean: dict[str, CleanRows] = field(default_factory=dict)


@dataclass
class CleanRows:
    rows: int = 0
    # flagged under a clause whose target the corpus's annotators said is absent
    flagged_annotated: int = 0
    # flagged under any clause at all (routes included)
    flagged_any: int = 0
    per_clause: dict[str, int] = field(default_factory=dict)


def _clean_for_every_target(row: CorpusRow) -> bool:
    return all(row.label(t) is not True for t in TARGETS) and any(
        row.label(t) is False for t in TARGETS
    )


def evaluate_corpora(
    classifier: Classifier, corpora: Path, *, only: Iterable[str] = CORPORA
) -> CorpusReport:
    wanted = set(only)
    rows = [r for r in load_all(corpora) if r.split == "test" and r.corpus in wanted]
    # Routes count too: an emergency signpost sent to a patient's medicine review is a
    # false alarm like any other.
    every_clause = set(classifier.policy.clauses)
    flagged = [{f.clause for f in classifier.classify_text(r.text)} for r in rows]
    report = CorpusReport()
    for target, clause in CLAUSE_OF.items():
        for corpus in OWN_CORPORA[target]:
            if corpus not in wanted:
                continue
            tp = fp = fn = tn = 0
            for row, clauses in zip(rows, flagged, strict=True):
                label = row.label(target)
                if row.corpus != corpus or label is None:
                    continue
                hit = clause in clauses
                tp += hit and label
                fp += hit and not label
                fn += (not hit) and label
                tn += (not hit) and not label
            report.per_clause[(clause, corpus)] = Counts(tp, fp, fn, tn)
    for corpus in sorted(wanted):
        summary = CleanRows()
        for row, clauses in zip(rows, flagged, strict=True):
            if row.corpus != corpus or not _clean_for_every_target(row):
                continue
            shown = clauses & every_clause
            annotated = {CLAUSE_OF[t] for t in TARGETS if row.label(t) is False}
            summary.rows += 1
            summary.flagged_any += bool(shown)
            summary.flagged_annotated += bool(shown & annotated)
            for clause in shown:
                summary.per_clause[clause] = summary.per_clause.get(clause, 0) + 1
        report.clean[corpus] = summary
    return report
