"""``modstream classify``: classify comments typed or piped in, one verdict per line as JSON.

    echo "Mae poen ofnadwy yn ei frest" | modstream classify
    modstream classify comments.txt                  # one comment per line
    modstream classify --json-lines comments.jsonl   # {"text": ..., "post_text": ...} per line

Each output line: the comment's language (and every language it was classified under), the
findings with the span of text each points at, the clauses, and the policy version.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from schemas.verdict import Verdict
from streams.classify import Classifier, load_registry
from streams.classify.evaluation import Case, as_comment
from streams.policy import load_policy
from workers.evaluate import DEFAULT_POLICY, DEFAULT_REGISTRY


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
    return {
        "text": text,
        "language": verdict.language,
        "languages": list(verdict.languages),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modstream classify", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="read these instead of stdin")
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY)
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--no-registry", action="store_true", help="classify without names")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json-lines", action="store_true", help="every line is a JSON object")
    form.add_argument("--plain", action="store_true", help="every line is a comment's text")
    args = parser.parse_args(argv)
    registry = None if args.no_registry else load_registry(args.registry)
    classifier = Classifier(load_policy(args.policy), registry)
    json_lines = True if args.json_lines else (False if args.plain else None)
    try:
        if not args.files:
            run(classifier, sys.stdin, sys.stdout, json_lines=json_lines)
        for path in args.files:
            with path.open(encoding="utf-8") as handle:
                run(classifier, handle, sys.stdout, json_lines=json_lines)
    except ValueError as exc:
        sys.stderr.write(f"modstream classify: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
