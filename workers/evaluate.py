"""``modstream eval``: score the classifier on a labelled data set.

python -m workers.evaluate                       # dev set, customer policy, example registry
python -m workers.evaluate --data tests/data/labelled/holdout.jsonl
python -m workers.evaluate --json                # machine-readable
python -m workers.evaluate --misses              # list every case the classifier got wrong
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import click

from streams.classify import Classifier, load_registry
from streams.classify.evaluation import Report, as_comment, load_cases, score
from streams.policy import load_policy
from workers.cli_conventions import command, run_command

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


@command("eval", help=(__doc__ or "").splitlines()[0])
@click.option("--policy", type=click.Path(path_type=Path), default=DEFAULT_POLICY)
@click.option("--data", type=click.Path(path_type=Path), default=DEFAULT_DATA)
@click.option("--registry", type=click.Path(path_type=Path), default=DEFAULT_REGISTRY)
@click.option("--no-registry", is_flag=True, help="classify without names")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--misses", is_flag=True, help="list cases that were wrong")
def eval_command(
    policy: Path, data: Path, registry: Path, no_registry: bool, as_json: bool, misses: bool
) -> int:
    names = None if no_registry else load_registry(registry)
    classifier = Classifier(load_policy(policy), names)
    report = evaluate(classifier, data)
    if as_json:
        payload = {
            "data": str(data),
            "policy_version": classifier.policy.version,
            "rules_digest": classifier.rules_digest,
            **report.as_dict(),
        }
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(
            f"policy {classifier.policy.name} version {classifier.policy.version} "
            f"(rules {classifier.rules_digest}), {report.cases} cases from {data}\n\n"
        )
        render(report, sys.stdout, misses=misses)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(eval_command, argv, "modstream eval")


if __name__ == "__main__":
    raise SystemExit(main())
