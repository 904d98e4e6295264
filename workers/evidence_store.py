"""The evidence store: copies of content kept for safeguarding, encrypted at rest.

The policy lets the board copy content "where there may be a safeguarding risk" and keep it in
line with GDPR. So a copy is kept only as long as the retention period, only a named reviewer
with a stated purpose may read it, and every read is written down before it happens.

Layout of the store directory (0700):

- ``<record id>.evidence`` (0600), one JSON file per record. In clear: the format version, the
  record id, ``created_at_ms``, ``purge_after_ms`` and the policy clause ids; nothing else, so
  the directory listing and the files reveal no text and no account or comment ids. The payload
  is AES-256-GCM ciphertext under a random 96-bit nonce, with the clear fields as associated
  data: changing any of them (or renaming the file) makes the record fail authentication.
- ``key-check`` (0600): a known value sealed with the store's key, so a wrong key is reported
  as a wrong key when the store is opened, not as a store full of tampered records.
- ``access.log`` (0600, opened append-only): one JSON line per read, export or purge.

The record key is derived from ``MODSTREAM_EVIDENCE_KEY`` with HKDF-SHA256, so the secret in the
environment is never used as a cipher key directly and can be any string of 16 bytes or more.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from workers.settings import Settings

log = logging.getLogger("modstream.evidence")

FORMAT_VERSION = 1
RECORD_SUFFIX = ".evidence"
ACCESS_LOG = "access.log"
KEY_CHECK = "key-check"
DAY_MS = 86_400_000
NONCE_BYTES = 12  # 96 bits: the size GCM is specified for
# Temp files older than this are debris from a crash mid-write; purge removes them.
STALE_TEMP_MS = 3_600_000

# Ids become file names and clause ids are kept in clear: both are restricted to a small
# alphabet, so neither can traverse paths nor carry free text into the plaintext metadata.
_RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CLAUSE_ID = re.compile(r"^[a-z0-9_.:-]{1,64}$")
_RECORD_INFO = b"modstream evidence store v1: record key"
_KEY_CHECK_PLAINTEXT = b"modstream evidence store v1: key check"
_KEY_CHECK_AAD = b"key-check"
_MAX_ACCESS_FIELD = 200


class EvidenceError(Exception):
    """Base class of evidence store errors; the message says what to do."""


class WrongEvidenceKey(EvidenceError):
    """The key given is not the key this store was created with.

    Check that MODSTREAM_EVIDENCE_KEY is the store's key. Records written under one key cannot
    be read with another, and the store refuses to mix keys.
    """


class EvidenceTampered(EvidenceError):
    """A record failed authentication: its file changed after it was written (metadata,
    ciphertext or its name). Keep the file for investigation and do not export it."""


class AccessRefused(EvidenceError):
    """A read or export without a named reviewer and a stated purpose. Both are required so
    the access log can answer who saw a record and why."""


class RecordNotFound(EvidenceError):
    """No record with that id: it was never stored, or was purged at the end of retention."""


@dataclass(frozen=True, slots=True)
class RecordMeta:
    """What is kept in clear about a record."""

    record_id: str
    created_at_ms: int
    purge_after_ms: int
    clauses: tuple[str, ...]

    def associated_data(self) -> bytes:
        return orjson.dumps(
            {
                "v": FORMAT_VERSION,
                "id": self.record_id,
                "created_at_ms": self.created_at_ms,
                "purge_after_ms": self.purge_after_ms,
                "clauses": list(self.clauses),
            },
            option=orjson.OPT_SORT_KEYS,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.record_id,
            "created_at_ms": self.created_at_ms,
            "purge_after_ms": self.purge_after_ms,
            "clauses": list(self.clauses),
        }


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    meta: RecordMeta
    payload: dict[str, Any]


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def derive_record_key(secret: bytes) -> bytes:
    return derive_key(secret, _RECORD_INFO)


def derive_key(secret: bytes, info: bytes) -> bytes:
    """A 256-bit key for one purpose (``info``) from MODSTREAM_EVIDENCE_KEY: the identity map
    uses the same secret and the same derivation under its own ``info``."""
    if len(secret) < 16:
        raise EvidenceError("the evidence key must be at least 16 bytes (MODSTREAM_EVIDENCE_KEY)")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
    return hkdf.derive(secret)


class EvidenceStore:
    """One directory of encrypted records, its retention rule and its access log."""

    def __init__(
        self,
        directory: Path,
        key: bytes,
        *,
        retention_days: int,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        if retention_days < 1:
            raise EvidenceError(
                "evidence retention must be at least one day (MODSTREAM_EVIDENCE_RETENTION_DAYS)"
            )
        self.directory = directory
        self.retention_days = retention_days
        self._aead = AESGCM(derive_record_key(key))
        self._clock = clock
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
        self._check_key()

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        return cls(
            Path(settings.evidence_dir),
            settings.evidence_key,
            retention_days=settings.evidence_retention_days,
        )

    # --- writing ---------------------------------------------------------------------------

    def put(
        self,
        record_id: str,
        payload: Mapping[str, Any],
        *,
        clauses: Iterable[str],
        now_ms: int | None = None,
    ) -> RecordMeta:
        """Store a record. A record already stored under this id is kept as it is: the first
        copy is the evidence, and a retried write must not replace it."""
        _check_record_id(record_id)
        path = self._path(record_id)
        if path.exists():
            return self._load(record_id)[0]
        created = self._clock() if now_ms is None else now_ms
        meta = RecordMeta(
            record_id=record_id,
            created_at_ms=created,
            purge_after_ms=created + self.retention_days * DAY_MS,
            clauses=_check_clauses(clauses),
        )
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, orjson.dumps(payload), meta.associated_data())
        document = {
            "v": FORMAT_VERSION,
            **meta.to_dict(),
            "nonce": base64.b64encode(nonce).decode("ascii"),
            "ciphertext": base64.b64encode(sealed).decode("ascii"),
        }
        _write_atomically(path, orjson.dumps(document, option=orjson.OPT_SORT_KEYS))
        return meta

    # --- reading (always logged) -----------------------------------------------------------

    def read(
        self, record_id: str, *, reviewer: str, purpose: str, now_ms: int | None = None
    ) -> EvidenceRecord:
        who, why = _check_access(reviewer, purpose)
        _check_record_id(record_id)
        at = self._clock() if now_ms is None else now_ms
        # Logged before the file is even opened: a read the log does not show cannot happen.
        self._log_access("read", record_id, who, why, at)
        return self._open(record_id)

    def export(
        self,
        record_ids: Sequence[str],
        *,
        reviewer: str,
        purpose: str,
        now_ms: int | None = None,
    ) -> bytes:
        """A decrypted JSON bundle of the chosen records and their metadata, for a
        safeguarding referral. Every record in it is logged; one bad record fails the whole
        export rather than produce a bundle that silently lacks it."""
        who, why = _check_access(reviewer, purpose)
        if not record_ids:
            raise EvidenceError("name at least one record to export")
        for record_id in record_ids:
            _check_record_id(record_id)
        at = self._clock() if now_ms is None else now_ms
        records = []
        for record_id in dict.fromkeys(record_ids):
            self._log_access("export", record_id, who, why, at)
            record = self._open(record_id)
            records.append({**record.meta.to_dict(), "payload": record.payload})
        bundle = {
            "format": "modstream-evidence-export/1",
            "exported_at_ms": at,
            "reviewer": who,
            "purpose": why,
            "records": records,
        }
        return orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)

    def list_records(self) -> list[RecordMeta]:
        """Clear metadata only: nothing is decrypted, so nothing is logged."""
        metas = []
        for path in sorted(self.directory.glob(f"*{RECORD_SUFFIX}")):
            try:
                metas.append(_meta_of(orjson.loads(path.read_bytes())))
            except (ValueError, KeyError, TypeError, OSError):
                log.warning("unreadable evidence file skipped in listing")
        return metas

    def access_entries(self) -> list[dict[str, Any]]:
        path = self.directory / ACCESS_LOG
        if not path.exists():
            return []
        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]

    # --- retention -------------------------------------------------------------------------

    def purge(self, now_ms: int) -> list[str]:
        """Delete the records whose retention has ended, as of ``now_ms``.

        A record goes at its ``purge_after_ms`` or when the current retention period has
        passed since it was made, whichever is first: shortening the retention setting applies
        to records already held.
        """
        purged: list[str] = []
        for path in sorted(self.directory.glob(f"*{RECORD_SUFFIX}")):
            try:
                meta = _meta_of(orjson.loads(path.read_bytes()))
            except FileNotFoundError:
                continue  # another executor purged it first
            except (ValueError, KeyError, TypeError, OSError):
                log.warning("unreadable evidence file left in place for investigation")
                continue
            ends = min(meta.purge_after_ms, meta.created_at_ms + self.retention_days * DAY_MS)
            if now_ms < ends:
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                self._log_access(
                    "purge",
                    meta.record_id,
                    "retention",
                    f"retention period of {self.retention_days} days ended",
                    now_ms,
                )
                purged.append(meta.record_id)
        for temp in self.directory.glob(".*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                if now_ms - temp.stat().st_mtime * 1000 > STALE_TEMP_MS:
                    temp.unlink()
        return purged

    # --- internals -------------------------------------------------------------------------

    def _path(self, record_id: str) -> Path:
        return self.directory / f"{record_id}{RECORD_SUFFIX}"

    def _load(self, record_id: str) -> tuple[RecordMeta, bytes, bytes]:
        try:
            document = orjson.loads(self._path(record_id).read_bytes())
        except FileNotFoundError:
            raise RecordNotFound(f"no evidence record {record_id}") from None
        except ValueError:
            raise EvidenceTampered(f"evidence record {record_id} is not valid JSON") from None
        try:
            if document["v"] != FORMAT_VERSION:
                raise EvidenceError(f"evidence record {record_id} has unknown format version")
            meta = _meta_of(document)
            nonce = base64.b64decode(document["nonce"], validate=True)
            sealed = base64.b64decode(document["ciphertext"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise EvidenceTampered(f"evidence record {record_id} is malformed") from None
        if meta.record_id != record_id:
            raise EvidenceTampered(f"evidence record {record_id} names a different record id")
        return meta, nonce, sealed

    def _open(self, record_id: str) -> EvidenceRecord:
        meta, nonce, sealed = self._load(record_id)
        try:
            plaintext = self._aead.decrypt(nonce, sealed, meta.associated_data())
        except InvalidTag:
            # The key was proven right when the store was opened, so this is the record.
            raise EvidenceTampered(
                f"evidence record {record_id} failed authentication: it was changed after "
                "it was written"
            ) from None
        return EvidenceRecord(meta=meta, payload=orjson.loads(plaintext))

    def _check_key(self) -> None:
        path = self.directory / KEY_CHECK
        if not path.exists():
            if any(self.directory.glob(f"*{RECORD_SUFFIX}")):
                raise EvidenceError(
                    f"{path} is missing but the store holds records: restore it from backup "
                    "rather than let a new key be adopted over existing records"
                )
            nonce = os.urandom(NONCE_BYTES)
            sealed = self._aead.encrypt(nonce, _KEY_CHECK_PLAINTEXT, _KEY_CHECK_AAD)
            _write_atomically(path, nonce + sealed)
            return
        blob = path.read_bytes()
        try:
            self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _KEY_CHECK_AAD)
        except InvalidTag:
            raise WrongEvidenceKey(
                f"the evidence key does not open the store in {self.directory}: set "
                "MODSTREAM_EVIDENCE_KEY to the key the store was created with"
            ) from None

    def _log_access(self, op: str, record_id: str, who: str, why: str, at_ms: int) -> None:
        entry = {"at_ms": at_ms, "op": op, "record_id": record_id, "who": who, "purpose": why}
        line = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS) + b"\n"
        # O_APPEND: each line lands at the end even with several writers; never truncated.
        fd = os.open(self.directory / ACCESS_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _write_all(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_access(reviewer: str, purpose: str) -> tuple[str, str]:
    who, why = (reviewer or "").strip(), (purpose or "").strip()
    if not who or not why:
        raise AccessRefused("reading evidence needs a named reviewer and a stated purpose")
    if len(who) > _MAX_ACCESS_FIELD or len(why) > _MAX_ACCESS_FIELD:
        raise AccessRefused(f"reviewer and purpose are limited to {_MAX_ACCESS_FIELD} characters")
    return who, why


def _check_record_id(record_id: str) -> None:
    if not _RECORD_ID.fullmatch(record_id):
        raise EvidenceError("a record id is 1-64 characters of letters, digits, '-' and '_'")


def _check_clauses(clauses: Iterable[str]) -> tuple[str, ...]:
    checked = tuple(sorted(set(clauses)))
    for clause in checked:
        if not _CLAUSE_ID.fullmatch(clause):
            raise EvidenceError("clause ids are short lowercase identifiers, never free text")
    return checked


def _meta_of(document: Mapping[str, Any]) -> RecordMeta:
    return RecordMeta(
        record_id=str(document["id"]),
        created_at_ms=int(document["created_at_ms"]),
        purge_after_ms=int(document["purge_after_ms"]),
        clauses=tuple(str(c) for c in document["clauses"]),
    )


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: a reader sees the whole file or none."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
