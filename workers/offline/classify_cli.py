"""``modstream classify``: classify comments typed or piped in, one verdict per line as JSON.

    echo "Mae poen ofnadwy yn ei frest" | modstream classify
    modstream classify comments.txt                  # one comment per line
    modstream classify --json-lines comments.jsonl   # {"text": ..., "post_text": ...} per line

Each output line: the comment's language (and every language it was classified under), the
findings with the span of text each points at, the clauses, and the policy version.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from schemas.verdict import Verdict
from streams.classify import Classifier, load_registry
from streams.classify.evaluation import Case, as_comment
from streams.language import LanguageReading, identify
from streams.policy import load_policy
from workers.cli_conventions import command, run_command
from workers.offline.evaluate import DEFAULT_POLICY, DEFAULT_REGISTRY


def comments(lines: Iterable[str], *, json_lines: bool | None) -> Iterator[tuple[str, str]]:
    """(text, post text) per non-blank line. ``json_lines=None``: a line that is a JSON object
    with "text" is read as one, anything else as plain text."""
    for line in lines:
        raw = line.rstrip("\n")
        if not raw.strip():
            continue
        if json_lines is not False and raw.lstrip().startswith("{"):
            try:
                record = json.loads(raw)
            except ValueError:
                record = None
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                yield record["text"], str(record.get("post_text") or "")
                continue
            if json_lines:
                raise ValueError(f"not a JSON object with a 'text' field: {raw[:60]!r}")
        yield raw, ""


def as_json(verdict: Verdict, rules_digest: str) -> dict[str, Any]:
    text = verdict.comment.text
    # The verdict carries the language only when classifying needed it; a person asking wants
    # it always, as enforcement would identify it for a reply.
    reading = (
        identify(text)
        if verdict.language is None
        else LanguageReading(verdict.language, verdict.languages)
    )
    return {
        "text": text,
        "language": reading.language,
        "languages": list(reading.languages),
        "clauses": list(verdict.clauses),
        "findings": [
            {
                "clause": f.clause,
                "detector": f.detector,
                "label": f.label,
                "start": f.start,
                "end": f.end,
                "span": text[f.start : f.end],
                "confidence": f.confidence,
                "severity": f.severity,
            }
            for f in verdict.findings
        ],
        "policy_version": verdict.policy_version,
        "rules_digest": rules_digest,
    }


def run(
    classifier: Classifier, lines: Iterable[str], out: TextIO, *, json_lines: bool | None
) -> int:
    count = 0
    for index, (text, post_text) in enumerate(comments(lines, json_lines=json_lines)):
        comment = as_comment(Case(text, frozenset(), "clean", post_text=post_text), index)
        verdict = classifier.verdict(comment, classifier.policy.version)
        out.write(json.dumps(as_json(verdict, classifier.rules_digest), ensure_ascii=False) + "\n")
        count += 1
    return count


@command("classify", help=(__doc__ or "").splitlines()[0])
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--policy", type=click.Path(path_type=Path), default=DEFAULT_POLICY)
@click.option("--registry", type=click.Path(path_type=Path), default=DEFAULT_REGISTRY)
@click.option("--no-registry", is_flag=True, help="classify without names")
@click.option("--json-lines", is_flag=True, help="every line is a JSON object")
@click.option("--plain", is_flag=True, help="every line is a comment's text")
def classify_command(
    files: tuple[Path, ...],
    policy: Path,
    registry: Path,
    no_registry: bool,
    json_lines: bool,
    plain: bool,
) -> int:
    if json_lines and plain:
        raise click.UsageError("--json-lines and --plain exclude each other")
    names = None if no_registry else load_registry(registry)
    classifier = Classifier(load_policy(policy), names)
    form = True if json_lines else (False if plain else None)
    try:
        if not files:
            run(classifier, sys.stdin, sys.stdout, json_lines=form)
        for path in files:
            with path.open(encoding="utf-8") as handle:
                run(classifier, handle, sys.stdout, json_lines=form)
    except ValueError as exc:
        sys.stderr.write(f"modstream classify: {exc}\n")
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(classify_command, argv, "modstream classify")


if __name__ == "__main__":
    raise SystemExit(main())
