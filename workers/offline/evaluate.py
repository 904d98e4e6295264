"""``modstream eval``: score the classifier on a labelled data set.

python -m workers.offline.evaluate               # dev set, customer policy, example registry
python -m workers.offline.evaluate --data tests/data/labelled/holdout.jsonl
python -m workers.offline.evaluate --json                # machine-readable
python -m workers.offline.evaluate --misses      # list every case the classifier got wrong
python -m workers.offline.evaluate --data tests/data/labelled/welsh.jsonl --data ...  # several

Each set's report ends with how well comments' languages were identified (Welsh, English or
both); with several sets, a last line gives that over all of them.
python -m workers.offline.evaluate --all                 # every labelled set, side by side
python -m workers.offline.evaluate --all --cascade       # with the encoder cascade switched on
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import click

from streams.classify import Classifier, load_registry
from streams.classify.evaluation import Report, Score, as_comment, load_cases, score
from streams.classify.language_eval import LanguageScore, language_accuracy
from streams.classify.models.corpus_eval import CorpusReport, evaluate_corpora
from streams.policy import Policy, load_policy, parse_policy
from workers.cli_conventions import command, run_command

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "deploy" / "policy" / "ctmuhb.yaml"
DEFAULT_REGISTRY = ROOT / "deploy" / "policy" / "registry.example.yaml"
LABELLED = ROOT / "tests" / "data" / "labelled"
DEFAULT_DATA = LABELLED / "dev.jsonl"


def evaluate(classifier: Classifier, data_path: Path) -> Report:
    cases = load_cases(data_path)
    predictions = [classifier.classify(as_comment(c, i)) for i, c in enumerate(cases)]
    policy = classifier.policy
    violations = [c.id for c in policy.violations()]
    return score(cases, predictions, list(policy.clauses), violations)


def labelled_sets(folder: Path = LABELLED) -> dict[str, Path]:
    """Every ``*.jsonl`` set in the folder by name, so a new held-out set is reported as soon as
    it is committed, without a code change (and cannot be left out of the comparison)."""
    return {path.stem: path for path in sorted(folder.glob("*.jsonl"))}


def _cell(s: Score) -> str:
    return f"{s.precision:.2f} / {s.recall:.2f} / {s.f1:.2f} ({s.tp + s.fn})"


def render_side_by_side(reports: dict[str, Report], out: TextIO) -> None:
    """One row per clause, one column per set: precision / recall / F1 (support)."""
    names = list(reports)
    out.write("| clause | " + " | ".join(f"{n}: P / R / F1 (n)" for n in names) + " |\n")
    out.write("|---|" + "---:|" * len(names) + "\n")
    clauses = next(iter(reports.values())).clauses if reports else ()
    for clause in clauses:
        cells = [_cell(reports[n].per_clause[clause]) for n in names]
        out.write(f"| {clause} | " + " | ".join(cells) + " |\n")
    out.write("| **micro** | " + " | ".join(_cell(reports[n].micro) for n in names) + " |\n")
    kept = [
        f"{r.clean_criticism_left_clean}/{r.clean_criticism_cases} = {r.clean_criticism_rate:.3f}"
        for r in reports.values()
    ]
    out.write("| clean_criticism left clean | " + " | ".join(kept) + " |\n")


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
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    multiple=True,
    help="a labelled set (repeatable; default dev)",
)
@click.option("--registry", type=click.Path(path_type=Path), default=DEFAULT_REGISTRY)
@click.option("--no-registry", is_flag=True, help="classify without names")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--misses", is_flag=True, help="list cases that were wrong")
@click.option(
    "--all",
    "run_all",
    is_flag=True,
    help="every *.jsonl under --labelled-dir, each table then side by side (no misses)",
)
@click.option("--labelled-dir", type=click.Path(path_type=Path), default=LABELLED)
@click.option(
    "--corpora",
    type=click.Path(path_type=Path),
    default=None,
    help="with --all: also the test split of every public corpus under this folder "
    "(e.g. ../shared/data/corpora), per clause beside the project's sets",
)
@click.option(
    "--cascade",
    is_flag=True,
    help="read every model detector with a band in cascade_head as the encoder cascade "
    "(needs the encoder package; docs/quality.md, Fourth round)",
)
def eval_command(
    policy: Path,
    data: tuple[Path, ...],
    registry: Path,
    no_registry: bool,
    as_json: bool,
    misses: bool,
    run_all: bool,
    labelled_dir: Path,
    corpora: Path | None,
    cascade: bool,
) -> int:
    names = None if no_registry else load_registry(registry)
    classifier = Classifier(_cascaded(policy) if cascade else load_policy(policy), names)
    if run_all:
        return _main_all(classifier, labelled_dir, as_json=as_json, corpora=corpora)
    overall = LanguageScore()
    for path in data or (DEFAULT_DATA,):
        report = evaluate(classifier, path)
        language = language_accuracy(load_cases(path))
        overall.add(language)
        if as_json:
            payload = {
                "data": str(path),
                "policy_version": classifier.policy.version,
                "rules_digest": classifier.rules_digest,
                **report.as_dict(),
                "language": language.as_dict(),
            }
            sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
            continue
        sys.stdout.write(
            f"policy {classifier.policy.name} version {classifier.policy.version} "
            f"(rules {classifier.rules_digest}), {report.cases} cases from {path}\n\n"
        )
        render(report, sys.stdout, misses=misses)
        render_language(language, sys.stdout, misses=misses)
    if len(data) > 1 and not as_json:
        sys.stdout.write("\nOver all sets: ")
        render_language(overall, sys.stdout, misses=False)
    return 0


def _cascaded(path: Path) -> Policy:
    import yaml

    from streams.classify.models.cascade import load_heads, with_cascades

    raw = yaml.safe_load(path.read_bytes())
    switched = with_cascades(raw, tuple(load_heads().bands))
    return parse_policy(yaml.safe_dump(switched, sort_keys=False).encode())


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(eval_command, argv, "modstream eval")


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


def _main_all(
    classifier: Classifier, folder: Path, *, as_json: bool, corpora: Path | None = None
) -> int:
    # Misses are deliberately not printed here: this is the view that includes the held-out sets,
    # and listing their wrong cases is exactly what would invite tuning on them.
    reports = {name: evaluate(classifier, path) for name, path in labelled_sets(folder).items()}
    head = {
        "policy_version": classifier.policy.version,
        "rules_digest": classifier.rules_digest,
    }
    if as_json:
        payload = {**head, "sets": {name: r.as_dict() for name, r in reports.items()}}
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return 0
    sys.stdout.write(
        f"policy {classifier.policy.name} version {classifier.policy.version} "
        f"(rules {classifier.rules_digest}), sets from {folder}\n"
    )
    for name, report in reports.items():
        sys.stdout.write(f"\n## {name} ({report.cases} cases)\n\n")
        render(report, sys.stdout)
    sys.stdout.write("\n## side by side\n\n")
    render_side_by_side(reports, sys.stdout)
    if corpora is not None:
        render_corpora(reports, evaluate_corpora(classifier, corpora), sys.stdout)
    return 0


def render_corpora(reports: dict[str, Report], corpus: CorpusReport, out: TextIO) -> None:
    """Per clause: the project's sets and every corpus's test split, precision/recall/F1."""
    out.write("\n## per clause: project sets and corpus test splits (P / R / F1)\n\n")
    names = list(reports)
    corpus_columns = sorted({name for _, name in corpus.per_clause})
    out.write("| clause | " + " | ".join([*names, *corpus_columns]) + " |\n")
    out.write("|---|" + "---:|" * (len(names) + len(corpus_columns)) + "\n")
    clauses = sorted({clause for clause, _ in corpus.per_clause})
    for clause in clauses:
        cells = []
        for name in names:
            s = reports[name].per_clause.get(clause)
            cells.append(
                f"{s.precision:.2f} / {s.recall:.2f} / {s.f1:.2f}" if s and s.tp + s.fn else "-"
            )
        for name in corpus_columns:
            c = corpus.per_clause.get((clause, name))
            cells.append(
                f"{c.precision:.2f} / {c.recall:.2f} / {c.f(1):.2f}" if c and c.tp + c.fn else "-"
            )
        out.write(f"| {clause} | " + " | ".join(cells) + " |\n")
    out.write(
        "\n## clean rows of each corpus's test split flagged\n\n"
        "A clean row was labelled negative for every target its corpus annotates. "
        "*annotated*: flagged under a clause whose target the annotators said is absent; "
        "*any*: under any clause, routes included.\n\n"
    )
    out.write(
        "| corpus | clean rows | annotated | rate | any | rate | worst clause |\n"
        "|---|---:|---:|---:|---:|---:|---|\n"
    )
    for name, rows in corpus.clean.items():
        worst = max(rows.per_clause.items(), key=lambda kv: (kv[1], kv[0]), default=("-", 0))
        n = max(1, rows.rows)
        annotated, flagged = rows.flagged_annotated, rows.flagged_any
        out.write(
            f"| {name} | {rows.rows} | {annotated} | {annotated / n:.4f} | "
            f"{flagged} | {flagged / n:.4f} | {worst[0]} {worst[1] / n:.4f} |\n"
        )


if __name__ == "__main__":
    raise SystemExit(main())
