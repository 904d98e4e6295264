"""Parse and validate a policy file. Every error names the clause and field, like a runbook line."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from streams.policy.model import (
    COMMENT_LANGUAGES,
    DETECTOR_TYPES,
    KINDS,
    PROCEDURES,
    SEVERITIES,
    Clause,
    DetectorSpec,
    Policy,
    PolicyError,
)

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DETECTOR_ID = re.compile(r"^[a-z][a-z0-9_.]*$")
_CLAUSE_KEYS = frozenset({"id", "title", "kind", "severity", "procedure", "detectors", "fallback"})
_DETECTOR_KEYS = frozenset({"id", "type", "params", "threshold", "languages"})
_MEMBER_KEYS = frozenset({"id", "type", "params"})
_RESERVED_TOP = frozenset({"name", "clauses", "version"})


def load_policy(path: str | Path) -> Policy:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(f"policy file {path} cannot be read: {exc.strerror}") from exc
    return parse_policy(data)


def parse_policy(data: bytes) -> Policy:
    """Validate the YAML bytes of a policy file and build the policy; raises PolicyError."""
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise PolicyError("policy file must be a YAML mapping with 'name' and 'clauses'")
    if "version" in doc:
        raise PolicyError(
            "top-level 'version' must not be set: the version is the hash of the file's content"
        )
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PolicyError("policy 'name' is missing or empty: give the policy a name")
    raw_clauses = doc.get("clauses")
    if not isinstance(raw_clauses, list) or not raw_clauses:
        raise PolicyError("policy 'clauses' is missing or empty: list at least one clause")

    clauses: dict[str, Clause] = {}
    for index, raw in enumerate(raw_clauses):
        clause = _clause(raw, index)
        if clause.id in clauses:
            raise PolicyError(f"clause '{clause.id}' is defined twice: clause ids must be unique")
        clauses[clause.id] = clause

    sections = {k: _freeze(v) for k, v in doc.items() if k not in _RESERVED_TOP}
    return Policy(
        name=name,
        version=hashlib.sha256(data).hexdigest()[:16],
        clauses=MappingProxyType(clauses),
        sections=MappingProxyType(sections),
    )


def _clause(raw: Any, index: int) -> Clause:
    if not isinstance(raw, dict):
        raise PolicyError(f"clause #{index + 1} must be a mapping with id, title, kind, ...")
    cid = raw.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise PolicyError(
            f"clause #{index + 1}: 'id' is missing or not a lowercase identifier (got {cid!r})"
        )
    where = f"clause '{cid}'"
    _no_unknown_keys(raw, _CLAUSE_KEYS, where)
    for key in ("title", "kind", "severity", "procedure", "detectors"):
        if key not in raw:
            raise PolicyError(f"{where}: field '{key}' is missing")
    title = raw["title"]
    if not isinstance(title, str) or not title.strip():
        raise PolicyError(f"{where}: 'title' must be a non-empty string")
    kind = _one_of(raw["kind"], KINDS, f"{where}: 'kind'")
    severity = _one_of(raw["severity"], SEVERITIES, f"{where}: 'severity'")
    procedure = _one_of(raw["procedure"], PROCEDURES, f"{where}: 'procedure'")
    raw_detectors = raw["detectors"]
    if not isinstance(raw_detectors, list) or not raw_detectors:
        raise PolicyError(f"{where}: has no detectors; a clause needs at least one to act on")
    detectors: list[DetectorSpec] = []
    seen: set[str] = set()
    for d_index, raw_detector in enumerate(raw_detectors):
        spec = _detector(raw_detector, f"{where} detector #{d_index + 1}")
        if spec.id in seen:
            raise PolicyError(f"{where}: detector id '{spec.id}' is used twice in this clause")
        seen.add(spec.id)
        detectors.append(spec)
    fallback = raw.get("fallback", False)
    if not isinstance(fallback, bool):
        raise PolicyError(f"{where}: 'fallback' must be true or false")
    return Clause(
        id=cid,
        title=title.strip(),
        kind=kind,
        severity=severity,
        procedure=procedure,
        detectors=tuple(detectors),
        fallback=fallback,
    )


def _detector(raw: Any, where: str) -> DetectorSpec:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: must be a mapping with id, type, threshold, params")
    did = raw.get("id")
    if not isinstance(did, str) or not _DETECTOR_ID.match(did):
        raise PolicyError(f"{where}: 'id' is missing or not like 'lexicon.profanity' ({did!r})")
    where = where.rsplit(" detector #", 1)[0] + f" detector '{did}'"
    _no_unknown_keys(raw, _DETECTOR_KEYS, where)
    dtype = _one_of(raw.get("type"), DETECTOR_TYPES, f"{where}: 'type'")
    if "threshold" not in raw:
        raise PolicyError(f"{where}: field 'threshold' is missing (a number from 0 to 1)")
    threshold = raw["threshold"]
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
        or not 0.0 <= threshold <= 1.0
    ):
        raise PolicyError(f"{where}: threshold {threshold!r} is outside 0..1")
    params = raw.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise PolicyError(f"{where}: 'params' must be a mapping")
    if dtype == "composite":
        _composite_members(params, where)
    languages = raw.get("languages", [])
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise PolicyError(f"{where}: 'languages' must be a list such as [cy]")
    for language in languages:
        _one_of(language, COMMENT_LANGUAGES, f"{where}: language")
    return DetectorSpec(
        id=did,
        type=dtype,
        params=_freeze(params),
        threshold=float(threshold),
        languages=tuple(sorted(set(languages))),
    )


def _composite_members(params: Mapping[str, Any], where: str) -> None:
    # Nested members are checked here too, so an unknown type deep inside a composite is
    # rejected when the policy is published rather than when the classifier is built.
    groups = [k for k in ("all_of", "any_of") if k in params]
    if len(groups) != 1:
        raise PolicyError(f"{where}: a composite needs exactly one of 'all_of' or 'any_of'")
    members = params[groups[0]]
    if not isinstance(members, list) or not members:
        raise PolicyError(f"{where}: '{groups[0]}' must be a non-empty list of detectors")
    for index, member in enumerate(members):
        at = f"{where} {groups[0]}[{index}]"
        if not isinstance(member, dict):
            raise PolicyError(f"{at}: must be a mapping with 'type' and 'params'")
        _no_unknown_keys(member, _MEMBER_KEYS, at)
        mtype = _one_of(member.get("type"), DETECTOR_TYPES, f"{at}: 'type'")
        mparams = member.get("params") or {}
        if not isinstance(mparams, dict):
            raise PolicyError(f"{at}: 'params' must be a mapping")
        if mtype == "composite":
            _composite_members(mparams, at)


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value is None:
        raise PolicyError(f"{where} is missing; use one of {', '.join(allowed)}")
    if value not in allowed:
        raise PolicyError(f"{where} {value!r} is unknown; use one of {', '.join(allowed)}")
    return str(value)


def _no_unknown_keys(raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise PolicyError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value
