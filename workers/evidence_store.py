"""The evidence store: copies of content kept for safeguarding, encrypted at rest.

The policy lets the board copy content "where there may be a safeguarding risk" and keep it in
line with GDPR. So a copy is kept only as long as the retention period, only a named reviewer
with a stated purpose may read it, and every read is written down before it happens.

Layout of the store directory (0700):

- ``<record id>.evidence`` (0600), one JSON file per record. In clear: the format version, the
  record id, ``created_at_ms``, ``purge_after_ms``, the policy clause ids and the id of the key
  it is under (``kid``); nothing else, so the directory listing and the files reveal no text
  and no account or comment ids. The payload is AES-256-GCM ciphertext under a random 96-bit
  nonce, with the clear fields as associated data: changing any of them (or renaming the file)
  makes the record fail authentication.
- ``key-check.<kid>`` (0600): a known value sealed with that key, so a wrong key is reported as
  a wrong key when the store is opened, not as a store full of tampered records. (``key-check``
  without a kid is the first format's, opened by a ``legacy:`` old key.)
- ``kdf-salt`` (0600): the scrypt salt for passphrase keys, made with the store.
- ``access.log`` (0600, opened append-only): one JSON line per read, export, purge or rotation.

Keys (``workers.evidence_keys``): 32 random bytes, or a passphrase stretched with scrypt; the
record key is derived from either with HKDF-SHA256, and its id is a hash of the record key.
Records are written under the current key and read under any configured key; ``rotate``
re-encrypts the others under the current key, one atomic file replacement at a time, so it
can run while the executor writes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from schemas.codec import replace
from workers.evidence_keys import KeySpec
from workers.settings import Settings

log = logging.getLogger("modstream.evidence")

FORMAT_VERSION = 2  # 2: records carry the id of their key
LEGACY_FORMAT = 1  # no key id: one key per store, any string of 16 bytes or more
RECORD_SUFFIX = ".evidence"
ACCESS_LOG = "access.log"
KEY_CHECK = "key-check"
KDF_SALT = "kdf-salt"
# scrypt work factor for passphrase keys: 32 MiB and about a tenth of a second per guess.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
DAY_MS = 86_400_000
NONCE_BYTES = 12  # 96 bits: the size GCM is specified for
# Temp files older than this are debris from a crash mid-write; purge removes them.
STALE_TEMP_MS = 3_600_000

# Ids become file names and clause ids are kept in clear: both are restricted to a small
# alphabet, so neither can traverse paths nor carry free text into the plaintext metadata.
_RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CLAUSE_ID = re.compile(r"^[a-z0-9_.:-]{1,64}$")
_LEGACY_RECORD_INFO = b"modstream evidence store v1: record key"
_RECORD_INFO = b"modstream evidence store v2: record key"
_KEY_ID_INFO = b"modstream evidence store v2: key id"
_KEY_CHECK_PLAINTEXT = b"modstream evidence store v1: key check"
_KEY_CHECK_AAD = b"key-check"
_MAX_ACCESS_FIELD = 200


class EvidenceError(Exception):
    """Base class of evidence store errors; the message says what to do."""


class WrongEvidenceKey(EvidenceError):
    """No key given opens this store.

    Check that MODSTREAM_EVIDENCE_KEY is the store's key. To rotate, set the new key there and
    the store's current key in MODSTREAM_EVIDENCE_OLD_KEYS: a new key is adopted only next to
    one the store already knows, so a mistyped key cannot start writing records nobody can read.
    """


class MissingEvidenceKey(EvidenceError):
    """A record is under a key that is not configured: add that key (its id is in the message
    and in ``modstream evidence list``) to MODSTREAM_EVIDENCE_OLD_KEYS."""


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
    kid: str = ""  # empty for records of the first format

    def associated_data(self) -> bytes:
        clear: dict[str, Any] = {
            "v": FORMAT_VERSION if self.kid else LEGACY_FORMAT,
            "id": self.record_id,
            "created_at_ms": self.created_at_ms,
            "purge_after_ms": self.purge_after_ms,
            "clauses": list(self.clauses),
        }
        if self.kid:
            clear["kid"] = self.kid
        return orjson.dumps(clear, option=orjson.OPT_SORT_KEYS)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.record_id,
            "created_at_ms": self.created_at_ms,
            "purge_after_ms": self.purge_after_ms,
            "clauses": list(self.clauses),
        }
        if self.kid:
            out["kid"] = self.kid
        return out


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    meta: RecordMeta
    payload: dict[str, Any]


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class RecordKey:
    """A cipher key ready for use, and its id (a hash of the key: it reveals nothing of it)."""

    kid: str
    aead: AESGCM = field(repr=False)
    legacy: bool = False


def derive_record_key(spec: KeySpec, salt: bytes) -> RecordKey:
    """The record key for ``spec``; ``salt`` is the store's scrypt salt for passphrases."""
    if spec.kind == "legacy":
        if len(spec.secret) < 16:
            raise EvidenceError("a legacy evidence key is at least 16 bytes")
        key = _hkdf(spec.secret, _LEGACY_RECORD_INFO)
        return RecordKey(kid="legacy", aead=AESGCM(key), legacy=True)
    material = spec.secret
    if spec.kind == "passphrase":
        material = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(
            spec.secret
        )
    elif len(material) != 32:
        raise EvidenceError("the evidence key must be 32 random bytes (MODSTREAM_EVIDENCE_KEY)")
    key = _hkdf(material, _RECORD_INFO)
    return RecordKey(kid=_hkdf(key, _KEY_ID_INFO).hex()[:16], aead=AESGCM(key))


def _hkdf(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def derive_key(spec: KeySpec, info: bytes) -> bytes:
    """A 256-bit key for one other purpose (``info``: the identity map, the connectors' dedup
    hash) from the configured evidence key. A passphrase is stretched with scrypt first, under
    a salt fixed by the purpose (these keys have no store of their own to keep a salt in)."""
    material = spec.secret
    if spec.kind == "passphrase":
        salt = hashlib.sha256(b"modstream purpose salt\n" + info).digest()[:16]
        material = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(material)
    elif len(material) < 16:
        raise EvidenceError("the evidence key must be 32 random bytes (MODSTREAM_EVIDENCE_KEY)")
    return _hkdf(material, info)


class EvidenceStore:
    """One directory of encrypted records, its retention rule and its access log."""

    def __init__(
        self,
        directory: Path,
        key: KeySpec,
        *,
        retention_days: int,
        old_keys: Sequence[KeySpec] = (),
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        if retention_days < 1:
            raise EvidenceError(
                "evidence retention must be at least one day (MODSTREAM_EVIDENCE_RETENTION_DAYS)"
            )
        if key.kind == "legacy":
            raise EvidenceError("a legacy key can only be an old key: rotate onto a new one")
        self.directory = directory
        self.retention_days = retention_days
        self._clock = clock
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
        salt = self._salt()
        self.current = derive_record_key(key, salt)
        self._keys = {k.kid: k for k in (derive_record_key(o, salt) for o in old_keys)}
        self._keys[self.current.kid] = self.current
        self._check_keys()

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        return cls(
            Path(settings.evidence_dir),
            settings.evidence_key,
            old_keys=settings.evidence_old_keys,
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
            kid=self.current.kid,
        )
        _write_atomically(path, self._seal(meta, orjson.dumps(payload)))
        return meta

    def _seal(self, meta: RecordMeta, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.current.aead.encrypt(nonce, plaintext, meta.associated_data())
        document = {
            "v": FORMAT_VERSION,
            **meta.to_dict(),
            "nonce": base64.b64encode(nonce).decode("ascii"),
            "ciphertext": base64.b64encode(sealed).decode("ascii"),
        }
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)

    # --- key rotation ----------------------------------------------------------------------

    def rotate(self, now_ms: int | None = None) -> list[str]:
        """Re-encrypt under the current key every record under another; returns their ids.

        Each record is replaced atomically with the same clear fields and payload, so readers
        and the executor's writes carry on meanwhile, and a stopped rotation is resumed by
        running it again. Logged like any other access to the plaintext.
        """
        at = self._clock() if now_ms is None else now_ms
        moved: list[str] = []
        for meta in self.list_records():
            if meta.kid == self.current.kid:
                continue
            record = self._open(meta.record_id)
            self._log_access(
                "rotate",
                meta.record_id,
                "key rotation",
                f"re-encrypted from key {meta.kid or 'legacy'} to {self.current.kid}",
                at,
            )
            fresh = replace(record.meta, kid=self.current.kid)
            _write_atomically(
                self._path(meta.record_id), self._seal(fresh, orjson.dumps(record.payload))
            )
            moved.append(meta.record_id)
        return moved

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

    def log_view(
        self, subject: str, *, reviewer: str, purpose: str, now_ms: int | None = None
    ) -> None:
        """Log a view of a comment's text shown from elsewhere than this store (the moderator
        console shows it from the topic when no copy was kept), so the one access log answers
        who saw which case's text and why. ``subject`` is the console's case id."""
        who, why = _check_access(reviewer, purpose)
        _check_record_id(subject)
        self._log_access("view", subject, who, why, self._clock() if now_ms is None else now_ms)

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
            if document["v"] not in (FORMAT_VERSION, LEGACY_FORMAT):
                raise EvidenceError(f"evidence record {record_id} has unknown format version")
            meta = _meta_of(document)
            if (document["v"] == FORMAT_VERSION) != bool(meta.kid):
                raise EvidenceTampered(f"evidence record {record_id} has a wrong key id field")
            nonce = base64.b64decode(document["nonce"], validate=True)
            sealed = base64.b64decode(document["ciphertext"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise EvidenceTampered(f"evidence record {record_id} is malformed") from None
        if meta.record_id != record_id:
            raise EvidenceTampered(f"evidence record {record_id} names a different record id")
        return meta, nonce, sealed

    def _open(self, record_id: str) -> EvidenceRecord:
        meta, nonce, sealed = self._load(record_id)
        key = self._keys.get(meta.kid or "legacy")
        if key is None:
            raise MissingEvidenceKey(
                f"evidence record {record_id} is under key "
                f"{meta.kid or 'legacy (first format)'}, which is not configured: add that key "
                "to MODSTREAM_EVIDENCE_OLD_KEYS"
            )
        try:
            plaintext = key.aead.decrypt(nonce, sealed, meta.associated_data())
        except InvalidTag:
            # The key was proven right when the store was opened, so this is the record.
            raise EvidenceTampered(
                f"evidence record {record_id} failed authentication: it was changed after "
                "it was written"
            ) from None
        return EvidenceRecord(meta=meta, payload=orjson.loads(plaintext))

    def _salt(self) -> bytes:
        path = self.directory / KDF_SALT
        if not path.exists():
            with contextlib.suppress(FileExistsError):  # another process made it first
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    _write_all(fd, os.urandom(16))
                    os.fsync(fd)
                finally:
                    os.close(fd)
        return path.read_bytes()

    def _check_path(self, key: RecordKey) -> Path:
        return self.directory / (KEY_CHECK if key.legacy else f"{KEY_CHECK}.{key.kid}")

    def _check_keys(self) -> None:
        """Every configured key the store knows must open its check; the current key is
        adopted when the store is new or when a key it knows is configured beside it."""
        known = [key for key in self._keys.values() if self._check_path(key).exists()]
        for key in known:
            blob = self._check_path(key).read_bytes()
            try:
                key.aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _KEY_CHECK_AAD)
            except InvalidTag:
                raise WrongEvidenceKey(
                    f"the evidence key {key.kid} does not open its check in {self.directory}: "
                    "the key-check file was changed"
                ) from None
        if self.current in known:
            return
        has_checks = any(self.directory.glob(f"{KEY_CHECK}*"))
        if known or not has_checks:
            if not has_checks and any(self.directory.glob(f"*{RECORD_SUFFIX}")):
                raise EvidenceError(
                    f"the key-check files are missing from {self.directory} but it holds "
                    "records: restore them from backup rather than let a new key be adopted "
                    "over existing records"
                )
            nonce = os.urandom(NONCE_BYTES)
            sealed = self.current.aead.encrypt(nonce, _KEY_CHECK_PLAINTEXT, _KEY_CHECK_AAD)
            _write_atomically(self._check_path(self.current), nonce + sealed)
            if known:
                log.info("evidence key %s adopted next to %s", self.current.kid, known[0].kid)
            return
        raise WrongEvidenceKey(
            f"the evidence key does not open the store in {self.directory}: set "
            "MODSTREAM_EVIDENCE_KEY to the store's key, or to rotate, put the store's key in "
            "MODSTREAM_EVIDENCE_OLD_KEYS beside the new one"
        )

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
        kid=str(document.get("kid", "")),
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
