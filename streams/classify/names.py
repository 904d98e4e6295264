"""Staff and service-user names from the customer's registry, found in comments by variant.

A name on its own is never a breach (staff are thanked by name every day); clauses combine the
``registry`` detector with hostile language in a composite. Names are personal data: nothing
here logs them, and the registry file stays with the customer's deployment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document, Hit, tokenise
from streams.classify.lexicon import Entry, Lexicon
from streams.normalise.text import normalise

ROLES = ("staff", "service_user")
_SECTIONS = {"staff": "staff", "service_users": "service_user"}
# Titles people use before a surname in the UK and in Welsh ("Dr Rhys", "Nyrs Rhys").
TITLES = (
    "dr",
    "doctor",
    "nurse",
    "nyrs",
    "sister",
    "matron",
    "midwife",
    "prof",
    "professor",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
)


class RegistryError(ValueError):
    """The name registry file cannot be used; the message says which entry to fix."""


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    role: str  # one of ROLES


def name_variants(name: str) -> set[tuple[str, ...]]:
    """Full name, title + surname, first name + surname initial ("Siân P").

    A first name or a surname alone is too common to mean this person.
    """
    words = tuple(t.text for t in tokenise(normalise(name).text))
    if not words:
        return set()
    if len(words) == 1:
        return {(title, words[0]) for title in TITLES}
    first, surname = words[0], words[-1]
    variants = {words, (first, surname), (first, surname[0])}
    variants.update((title, surname) for title in TITLES)
    # Double-barrelled surnames tokenise to two words ("Jones-Evans"): keep both readings.
    if len(words) >= 3:
        variants.update((title, *words[-2:]) for title in TITLES)
    return variants


class NameRegistry:
    def __init__(self, people: Iterable[Person]) -> None:
        self.people = tuple(people)
        self._lexicons: dict[tuple[str, ...], Lexicon] = {}

    def __len__(self) -> int:
        return len(self.people)

    def lexicon(self, roles: tuple[str, ...]) -> Lexicon:
        if roles not in self._lexicons:
            entries = [
                Entry(words, person.role, prefix=False)
                for person in self.people
                if person.role in roles
                for words in sorted(name_variants(person.name))
            ]
            self._lexicons[roles] = Lexicon("registry", entries)
        return self._lexicons[roles]


def parse_registry(data: bytes) -> NameRegistry:
    try:
        doc = yaml.safe_load(data) or {}
    except yaml.YAMLError as exc:
        raise RegistryError(f"name registry is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise RegistryError("name registry must be a mapping with 'staff' and 'service_users'")
    unknown = sorted(set(doc) - set(_SECTIONS))
    if unknown:
        raise RegistryError(f"name registry: unknown section(s) {', '.join(map(str, unknown))}")
    people: list[Person] = []
    for section, role in _SECTIONS.items():
        entries = doc.get(section) or []
        if not isinstance(entries, list):
            raise RegistryError(f"name registry '{section}' must be a list of names")
        for index, entry in enumerate(entries):
            name = entry.get("name") if isinstance(entry, dict) else entry
            if not isinstance(name, str) or not name.strip():
                raise RegistryError(f"name registry '{section}' entry #{index + 1} has no name")
            people.append(Person(name.strip(), role))
    return NameRegistry(people)


def load_registry(path: str | Path) -> NameRegistry:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RegistryError(f"name registry {path} cannot be read: {exc.strerror}") from exc
    return parse_registry(data)


class RegistryDetector(Detector):
    """Hits on any variant of a registered name; the label is the person's role."""

    def __init__(self, params: Params, ctx: BuildContext) -> None:
        roles = params.names("roles") or ROLES
        for role in roles:
            if role not in ROLES:
                raise params.error(f"params.roles {role!r} is unknown; use {', '.join(ROLES)}")
        self.confidence = params.number("confidence", 0.95)
        self.lexicon = ctx.names.lexicon(tuple(roles)) if ctx.names is not None else None
        # Names are probed like any word list, so a comment naming no one skips the lookup.
        self._probe = (
            ctx.prefilter.lexicon(self.lexicon)
            if ctx.prefilter is not None and self.lexicon is not None and len(self.lexicon)
            else None
        )

    def may_hit(self, doc: Document) -> bool:
        if self.lexicon is None or not len(self.lexicon):
            return False
        return self._probe is None or doc.may_match(self._probe)

    def probe_ids(self) -> frozenset[int]:
        return frozenset() if self._probe is None else frozenset({self._probe.id})

    def detect(self, doc: Document) -> list[Hit]:
        if self.lexicon is None:
            return []
        return [
            doc.hit_for_tokens(m.first, m.last, self.confidence, m.label)
            for m in self.lexicon.find_in(doc)
        ]
