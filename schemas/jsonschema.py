"""JSON Schemas (draft 2020-12) for every topic, derived from the records (msgspec Structs).

The records are the source of truth; ``schemas/json/<topic>.schema.json`` is their published
form for people and tools outside Python (connectors, auditors, the executor's authors).
After changing a record run ``python -m schemas.jsonschema`` and commit the result; the unit
tests fail while the committed files differ from what this module produces.

Supported field types are the ones the records use: ``str``, ``int``, ``float``, ``bool``,
``tuple[X, ...]``, nested records, ``Literal[...]``, ``dict[str, Any]`` (a JSON object) and
``X | None``. Anything else is refused, so a record cannot silently grow a field the schema does
not describe. The decoder (``schemas.codec``) checks the same definitions, so what the schema
says and what a stage accepts are one description.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from schemas.envelope import RawEnvelope
from streams import topics

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).resolve().parent / "json"

Schema = dict[str, Any]

_PRIMITIVES: dict[object, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
# "name: type  # comment" or "name: type = default  # comment" inside a class body.
_FIELD_COMMENT = re.compile(r"^\s+(\w+)\s*:[^#]*#\s*(.+?)\s*$")


def record_schema(record: type) -> Schema:
    """The schema of one record, with nested records under ``$defs``."""
    defs: dict[str, Schema] = {}
    schema: Schema = {"$schema": DRAFT, **_object_schema(record, defs)}
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def _is_record(hint: object) -> bool:
    return isinstance(hint, type) and issubclass(hint, msgspec.Struct)


def _object_schema(record: type, defs: dict[str, Schema]) -> Schema:
    if not _is_record(record):
        raise TypeError(
            f"{record.__qualname__} is not a record (a msgspec Struct): declare it as "
            f"`class {record.__name__}(Record, frozen=True)` with Record from schemas.codec, "
            "so stages decode it with every field checked"
        )
    hints = typing.get_type_hints(record)
    comments = _field_comments(record)
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for f in msgspec.structs.fields(record):
        prop = _type_schema(hints[f.name], defs, where=f"{record.__qualname__}.{f.name}")
        if f.name in comments:
            prop = {"description": comments[f.name], **prop}
        properties[f.name] = prop
        if f.required:
            required.append(f.name)
    schema: Schema = {"title": record.__name__}
    doc = _authored_doc(record)
    if doc:
        schema["description"] = doc
    schema.update(
        type="object",
        properties=properties,
        required=required,
        additionalProperties=False,
    )
    return schema


def _type_schema(hint: object, defs: dict[str, Schema], *, where: str) -> Schema:
    if hint in _PRIMITIVES:
        return {"type": _PRIMITIVES[hint]}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is dict and args == (str, Any):
        return {"type": "object"}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _type_schema(args[0], defs, where=where)}
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        inner = _type_schema(next(a for a in args if a is not type(None)), defs, where=where)
        if set(inner) == {"type"} and isinstance(inner["type"], str):
            return {"type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}
    if _is_record(hint):
        assert isinstance(hint, type)
        if hint.__name__ not in defs:
            defs[hint.__name__] = {}  # reserve first: a self-referencing record terminates
            defs[hint.__name__] = _object_schema(hint, defs)
        return {"$ref": f"#/$defs/{hint.__name__}"}
    raise TypeError(f"{where}: no JSON Schema mapping for type {hint!r}")


def _authored_doc(record: type) -> str:
    # The class's own docstring only: inspect.getdoc would fall back to a base class's.
    return inspect.cleandoc(record.__dict__.get("__doc__") or "")


def _field_comments(record: type) -> dict[str, str]:
    """The trailing comment on each field's line: the records document their fields there."""
    try:
        source = inspect.getsource(record)
    except (OSError, TypeError):
        return {}
    names = {f.name for f in msgspec.structs.fields(record)}
    found: dict[str, str] = {}
    for line in source.splitlines():
        match = _FIELD_COMMENT.match(line)
        if match and match.group(1) in names:
            found.setdefault(match.group(1), match.group(2))
    return found


def raw_envelope_schema() -> Schema:
    """``comments.raw``: written by hand, as the payloads are the platforms' own objects.

    Only what ingestion needs is required of each payload; everything else the platform
    sends may be present. See streams/normalise/envelope.py for the full description.
    """
    timestamp = {
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$",
    }
    non_empty = {"type": "string", "minLength": 1}
    text = {"type": "string"}

    def requires(props: Schema) -> Schema:
        return {"type": "object", "properties": props, "required": list(props)}

    def when(platform: str, payload: Schema) -> Schema:
        return {
            "if": {"properties": {"platform": {"const": platform}}},
            "then": {"properties": {"payload": payload}},
        }

    # The envelope itself comes from the record ingestion decodes it with; only the payload
    # rules below are written here, as the payloads are the platforms' objects, not ours.
    envelope = record_schema(RawEnvelope)
    envelope.pop("$schema")
    defs = envelope.pop("$defs", {})
    envelope["description"] += f" Message key: {topics.RAW.key}."
    return {
        "$schema": DRAFT,
        "$id": _topic_id(topics.RAW.name),
        **envelope,
        "allOf": [
            when(
                "x",
                {
                    "anyOf": [
                        requires({"data": {"$ref": "#/$defs/tweet"}}),
                        {"$ref": "#/$defs/tweet"},
                    ]
                },
            ),
            when(
                "facebook",
                requires(
                    {
                        "id": non_empty,
                        "message": text,
                        "created_time": timestamp,
                        "from": requires({"id": non_empty}),
                    }
                ),
            ),
            when(
                "instagram",
                requires(
                    {
                        "id": non_empty,
                        "text": text,
                        "timestamp": timestamp,
                        "from": requires({"id": non_empty}),
                    }
                ),
            ),
            when(
                "linkedin",
                {
                    **requires(
                        {
                            "actor": {"type": "string", "pattern": "^urn:li:"},
                            "message": requires({"text": text}),
                            "created": requires({"time": {"type": "integer", "minimum": 0}}),
                        }
                    ),
                    "anyOf": [
                        {"required": ["id"]},
                        {"required": ["$URN"]},
                        {"required": ["commentUrn"]},
                    ],
                },
            ),
            when(
                "youtube",
                {
                    "oneOf": [
                        {
                            "properties": {"kind": {"const": "youtube#commentThread"}},
                            **requires(
                                {
                                    "snippet": requires(
                                        {"topLevelComment": {"$ref": "#/$defs/ytComment"}}
                                    )
                                }
                            ),
                        },
                        {
                            "allOf": [{"$ref": "#/$defs/ytComment"}],
                            "properties": {"kind": {"const": "youtube#comment"}},
                        },
                    ]
                },
            ),
        ],
        "$defs": {
            **defs,
            "tweet": requires(
                {"id": non_empty, "text": text, "author_id": non_empty, "created_at": timestamp}
            ),
            "ytComment": requires(
                {
                    "id": non_empty,
                    "snippet": {
                        **requires(
                            {
                                "authorChannelId": requires({"value": non_empty}),
                                "publishedAt": timestamp,
                            }
                        ),
                        "anyOf": [{"required": ["textOriginal"]}, {"required": ["textDisplay"]}],
                    },
                }
            ),
        },
    }


def _topic_id(topic: str) -> str:
    return f"urn:modstream:topic:{topic}"


def _record_class(dotted: str) -> type | None:
    """The record class named in a TopicSpec, or None while its module is not written yet."""
    module_name, _, class_name = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    record = getattr(module, class_name, None)
    if not isinstance(record, type):
        raise LookupError(f"streams/topics.py names {dotted}, which {module_name} does not define")
    return record


def topic_schemas() -> dict[str, Schema]:
    """File name → schema, for every topic whose record exists."""
    out: dict[str, Schema] = {f"{topics.RAW.name}.schema.json": raw_envelope_schema()}
    for spec in topics.ALL:
        if not spec.record.startswith("schemas."):
            continue  # platform JSON (handled above) and policy YAML are not records
        record = _record_class(spec.record)
        if record is None:
            continue
        schema = record_schema(record)
        schema["$id"] = _topic_id(spec.name)
        note = f"Topic {spec.name}; message key: {spec.key}."
        schema["description"] = (
            f"{schema['description']}\n\n{note}" if "description" in schema else note
        )
        out[f"{spec.name}.schema.json"] = _ordered(schema)
    return dict(sorted(out.items()))


def _ordered(schema: Schema) -> Schema:
    # Keywords that say what the document is first, so the files read top-down.
    head = ("$schema", "$id", "title", "description")
    return {**{k: schema[k] for k in head if k in schema}, **schema}


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def stale_files(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing, different, or no longer generated."""
    wanted = {name: render(schema) for name, schema in topic_schemas().items()}
    present = {p.name: p.read_text(encoding="utf-8") for p in directory.glob("*.schema.json")}
    return sorted(n for n in wanted.keys() | present.keys() if wanted.get(n) != present.get(n))


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in topic_schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.jsonschema", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file is stale"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            sys.stderr.write(f"stale: schemas/json/{name} (run python -m schemas.jsonschema)\n")
        return 1 if stale else 0
    for path in write_all():
        sys.stdout.write(f"wrote {path.relative_to(SCHEMA_DIR.parent.parent)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
