"""Wire contracts between stages: plain records, no app import, no I/O.

Every record is a frozen dataclass serialised with orjson (``to_bytes``) and read back
with ``from_bytes``; the JSON Schema files in ``schemas/json/`` are the published form.
"""
