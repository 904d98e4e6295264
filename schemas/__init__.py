"""Wire contracts between stages: plain records, no app import, no I/O.

Every record is a frozen msgspec Struct (``schemas.codec.Record``) written with ``to_bytes``
and read back, every field type-checked, with ``from_bytes``; the JSON Schema files in
``schemas/json/`` are generated from the same definitions (``python -m schemas.jsonschema``).
"""
