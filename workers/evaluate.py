"""``modstream eval``: score the classifier on a labelled data set.

python -m workers.evaluate                       # dev set, customer policy, example registry
python -m workers.evaluate --data tests/data/labelled/holdout.jsonl
python -m workers.evaluate --json                # machine-readable
python -m workers.evaluate --misses              # list every case the classifier got wrong
python -m workers.evaluate --data tests/data/labelled/welsh.jsonl --data ...   # several sets

Each set's report ends with how well comments' languages were identified (Welsh, English or
both); with several sets, a last line gives that over all of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from streams.classify import Classifier, load_registry
from streams.classify.evaluation import Report, as_comment, load_cases, score
from streams.classify.language_eval import LanguageScore, language_accuracy
from streams.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = ROOT / "deploy" / "policy" / "ctmuhb.yaml"
DEFAULT_REGISTRY = ROOT / "deploy" / "policy" / "registry.example.yaml"
DEFAULT_DATA = ROOT / "tests" / "data" / "labelled" / "dev.jsonl"


def evaluate(classifier: Classifier, data_path: Path) -> Report:
    cases = load_cases(data_path)
    predictions = [classifier.classify(as_comment(c, i)) for i, c in enumerate(cases)]
    policy = classifier.policy
    violations = [c.id for c in policy.violations()]
    return score(cases, predictions, list(policy.clauses), violations)


def render(report: Report, out: TextIO, *, misses: bool = False) -> None:
    out.write("| clause | support | TP | FP | FN | precision | recall | F1 |\n")
    out.write("|---|---:|---:|---:|---:|---:|---:|---:|\n")
    rows = [(c, report.per_clause[c]) for c in report.clauses]
    for name, s in [*rows, ("**micro**", report.micro)]:
        out.write(
            f"| {name} | {s.tp + s.fn} | {s.tp} | {s.fp} | {s.fn} | "
            f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |\n"
        )
    c = report.confusion
    out.write("\nClean vs flagged (flagged = at least one violation clause):\n\n")
    out.write("| | predicted clean | predicted flagged |\n|---|---:|---:|\n")
    out.write(f"| labelled clean | {c['tn']} | {c['fp']} |\n")
    out.write(f"| labelled violation | {c['fn']} | {c['tp']} |\n")
    out.write(
        f"\nclean_criticism left clean: {report.clean_criticism_left_clean}/"
        f"{report.clean_criticism_cases} = {report.clean_criticism_rate:.3f}\n"
    )
    if misses:
        out.write(f"\n{len(report.misses)} cases differ from their labels:\n")
        for miss in report.misses:
            want = ",".join(sorted(miss.case.labels)) or "-"
            got = ",".join(sorted(miss.predicted)) or "-"
            out.write(f"  [{miss.case.group}] want {want} got {got}: {miss.case.text}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modstream eval", description=__doc__.splitlines()[0])
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY)
    parser.add_argument(
        "--data", type=Path, action="append", help="a labelled set (repeatable; default dev)"
    )
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--no-registry", action="store_true", help="classify without names")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--misses", action="store_true", help="list cases that were wrong")
    args = parser.parse_args(argv)
    registry = None if args.no_registry else load_registry(args.registry)
    classifier = Classifier(load_policy(args.policy), registry)
    overall = LanguageScore()
    for data in args.data or [DEFAULT_DATA]:
        report = evaluate(classifier, data)
        language = language_accuracy(load_cases(data))
        overall.add(language)
        if args.json:
            payload = {
                "data": str(data),
                "policy_version": classifier.policy.version,
                "rules_digest": classifier.rules_digest,
                **report.as_dict(),
                "language": language.as_dict(),
            }
            sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
            continue
        sys.stdout.write(
            f"policy {classifier.policy.name} version {classifier.policy.version} "
            f"(rules {classifier.rules_digest}), {report.cases} cases from {data}\n\n"
        )
        render(report, sys.stdout, misses=args.misses)
        render_language(language, sys.stdout, misses=args.misses)
    if len(args.data or ()) > 1 and not args.json:
        sys.stdout.write("\nOver all sets: ")
        render_language(overall, sys.stdout, misses=False)
    return 0


def render_language(score: LanguageScore, out: TextIO, *, misses: bool = False) -> None:
    labels = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(score.by_label.items()))
    out.write(
        f"\nlanguage identified: {score.correct}/{score.cases} = {score.accuracy:.3f} "
        f"(comments of 5+ words; {labels}; {score.short} shorter not counted)\n"
    )
    if misses:
        for case, reading in score.wrong:
            got = "+".join(reading.languages) if case.language == "mixed" else reading.language
            out.write(f"  language want {case.language} got {got}: {case.text}\n")


if __name__ == "__main__":
    raise SystemExit(main())
