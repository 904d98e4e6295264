"""The comment text cut into runs, each marked with the findings whose span covers it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.verdict import Finding


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    findings: tuple[int, ...]  # indexes into the findings given; () for plain text


def runs(text: str, findings: Sequence[Finding]) -> list[Run]:
    """Overlapping spans are fine: each run lists every finding covering it. Spans outside
    the text (a finding from another version of it) are clipped, never an error."""
    size = len(text)
    cuts = {0, size}
    for f in findings:
        cuts.update((min(max(f.start, 0), size), min(max(f.end, 0), size)))
    edges = sorted(cuts)
    out: list[Run] = []
    for start, end in itertools.pairwise(edges):
        if start == end:
            continue
        covering = tuple(i for i, f in enumerate(findings) if f.start <= start and end <= f.end)
        if out and out[-1].findings == covering:
            out[-1] = Run(out[-1].text + text[start:end], covering)
        else:
            out.append(Run(text[start:end], covering))
    return out
