"""The evidence store: encrypted at rest, authenticated metadata, retention, logged access."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from workers.evidence_keys import KeySpec, parse_key
from workers.evidence_store import (
    _KEY_CHECK_AAD,
    _KEY_CHECK_PLAINTEXT,
    _LEGACY_RECORD_INFO,
    ACCESS_LOG,
    DAY_MS,
    AccessRefused,
    EvidenceError,
    EvidenceStore,
    EvidenceTampered,
    MissingEvidenceKey,
    RecordMeta,
    RecordNotFound,
    WrongEvidenceKey,
)
from workers.offline import evidence_cli

KEY_TEXT = base64.b64encode(bytes(range(32))).decode()  # as `openssl rand -base64 32` gives
KEY = parse_key(KEY_TEXT, "KEY")
OTHER_TEXT = bytes(range(100, 132)).hex()
OTHER = parse_key(OTHER_TEXT, "OTHER")
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
TEXT = "You will regret this, I know where the ward nurse parks"
PAYLOAD = {"content": TEXT, "comment_id": "facebook:1234567890", "author_key": "a" * 32}


def _store(
    directory: Path,
    key: KeySpec = KEY,
    retention_days: int = 30,
    old_keys: tuple[KeySpec, ...] = (),
) -> EvidenceStore:
    return EvidenceStore(
        directory, key, retention_days=retention_days, old_keys=old_keys, clock=lambda: T0
    )


def test_the_file_holds_no_plaintext_and_only_the_allowed_metadata(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat", "safeguarding"], now_ms=T0)

    raw = (tmp_path / "rec1.evidence").read_bytes()
    for secret in (TEXT, "ward nurse", "1234567890", "a" * 32):
        assert secret.encode() not in raw
    document = orjson.loads(raw)
    assert set(document) == {
        "v",
        "id",
        "created_at_ms",
        "purge_after_ms",
        "clauses",
        "kid",
        "nonce",
        "ciphertext",
    }
    assert document["kid"] == store.current.kid and len(document["kid"]) == 16
    assert document["clauses"] == ["safeguarding", "threat"]
    assert document["purge_after_ms"] == T0 + 30 * DAY_MS
    assert len(base64.b64decode(document["nonce"])) == 12


def test_files_are_private_to_the_owner(tmp_path: Path) -> None:
    store = _store(tmp_path / "evidence")
    store.put("rec1", PAYLOAD, clauses=["threat"])
    store.read("rec1", reviewer="r", purpose="p")
    assert stat.S_IMODE((tmp_path / "evidence").stat().st_mode) == 0o700
    for name in ("rec1.evidence", ACCESS_LOG, f"key-check.{store.current.kid}", "kdf-salt"):
        assert stat.S_IMODE((tmp_path / "evidence" / name).stat().st_mode) == 0o600
    assert not list((tmp_path / "evidence").glob(".*.tmp"))


def test_a_read_returns_what_was_stored(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"], now_ms=T0)
    record = store.read("rec1", reviewer="S. Jones", purpose="safeguarding referral 42")
    assert record.payload == PAYLOAD
    assert record.meta.clauses == ("threat",)


def test_each_record_gets_a_fresh_nonce(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"])
    store.put("rec2", PAYLOAD, clauses=["threat"])
    nonces = {
        orjson.loads((tmp_path / f"{r}.evidence").read_bytes())["nonce"] for r in ("rec1", "rec2")
    }
    assert len(nonces) == 2


def test_a_wrong_key_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    _store(tmp_path).put("rec1", PAYLOAD, clauses=["threat"])
    with pytest.raises(WrongEvidenceKey, match="MODSTREAM_EVIDENCE_KEY"):
        _store(tmp_path, key=OTHER)


def test_a_wrong_key_cannot_decrypt_a_record_even_without_the_key_check(tmp_path: Path) -> None:
    _store(tmp_path / "a").put("rec1", PAYLOAD, clauses=["threat"])
    other = _store(tmp_path / "b", key=OTHER)
    document = orjson.loads((tmp_path / "a" / "rec1.evidence").read_bytes())
    document["kid"] = other.current.kid  # claims to be under b's key
    (tmp_path / "b" / "rec1.evidence").write_bytes(orjson.dumps(document))
    with pytest.raises(EvidenceTampered, match="failed authentication"):
        other.read("rec1", reviewer="r", purpose="p")


def test_a_store_with_records_but_no_key_check_is_not_adopted_by_a_new_key(
    tmp_path: Path,
) -> None:
    _store(tmp_path).put("rec1", PAYLOAD, clauses=["threat"])
    for check in tmp_path.glob("key-check*"):
        check.unlink()
    with pytest.raises(EvidenceError, match="restore them from backup"):
        _store(tmp_path, key=OTHER)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("purge_after_ms", T0 + 10_000 * DAY_MS),
        ("created_at_ms", T0 - 1),
        ("clauses", ["spam"]),
    ],
)
def test_tampered_metadata_fails_authentication(tmp_path: Path, field: str, value: object) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"], now_ms=T0)
    path = tmp_path / "rec1.evidence"
    document = orjson.loads(path.read_bytes())
    document[field] = value
    path.write_bytes(orjson.dumps(document))
    with pytest.raises(EvidenceTampered, match="failed authentication"):
        store.read("rec1", reviewer="r", purpose="p")


def test_a_renamed_record_fails(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"])
    (tmp_path / "rec1.evidence").rename(tmp_path / "rec2.evidence")
    with pytest.raises(EvidenceTampered, match="different record id"):
        store.read("rec2", reviewer="r", purpose="p")


def test_flipped_ciphertext_fails_authentication(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"])
    path = tmp_path / "rec1.evidence"
    document = orjson.loads(path.read_bytes())
    sealed = bytearray(base64.b64decode(document["ciphertext"]))
    sealed[0] ^= 1
    document["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    path.write_bytes(orjson.dumps(document))
    with pytest.raises(EvidenceTampered):
        store.read("rec1", reviewer="r", purpose="p")


def test_a_second_put_keeps_the_first_copy(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"], now_ms=T0)
    store.put("rec1", {"content": "different"}, clauses=["spam"], now_ms=T0 + 5)
    assert store.read("rec1", reviewer="r", purpose="p").payload == PAYLOAD


def test_purge_deletes_only_records_past_retention(tmp_path: Path) -> None:
    store = _store(tmp_path, retention_days=30)
    store.put("old", PAYLOAD, clauses=["threat"], now_ms=T0)
    store.put("new", PAYLOAD, clauses=["threat"], now_ms=T0 + 10 * DAY_MS)

    assert store.purge(T0 + 30 * DAY_MS - 1) == []
    assert store.purge(T0 + 30 * DAY_MS) == ["old"]
    assert not (tmp_path / "old.evidence").exists()
    with pytest.raises(RecordNotFound):
        store.read("old", reviewer="r", purpose="p")
    assert store.purge(T0 + 39 * DAY_MS) == []
    assert store.purge(T0 + 40 * DAY_MS) == ["new"]
    purges = [e for e in store.access_entries() if e["op"] == "purge"]
    assert [(e["record_id"], e["who"]) for e in purges] == [
        ("old", "retention"),
        ("new", "retention"),
    ]


def test_a_shorter_retention_applies_to_records_already_held(tmp_path: Path) -> None:
    _store(tmp_path, retention_days=90).put("rec1", PAYLOAD, clauses=["threat"], now_ms=T0)
    shorter = _store(tmp_path, retention_days=7)
    assert shorter.purge(T0 + 7 * DAY_MS) == ["rec1"]


def test_every_read_and_export_is_logged_with_who_when_and_why(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"])
    store.put("rec2", PAYLOAD, clauses=["self_harm"])

    store.read("rec1", reviewer="S. Jones", purpose="triage", now_ms=T0 + 1)
    store.read("rec1", reviewer="S. Jones", purpose="second look", now_ms=T0 + 2)
    store.export(["rec1", "rec2"], reviewer="A. Patel", purpose="referral 7", now_ms=T0 + 3)

    entries = store.access_entries()
    assert [(e["op"], e["record_id"], e["who"], e["purpose"], e["at_ms"]) for e in entries] == [
        ("read", "rec1", "S. Jones", "triage", T0 + 1),
        ("read", "rec1", "S. Jones", "second look", T0 + 2),
        ("export", "rec1", "A. Patel", "referral 7", T0 + 3),
        ("export", "rec2", "A. Patel", "referral 7", T0 + 3),
    ]


def test_a_failed_read_is_still_logged(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(RecordNotFound):
        store.read("missing", reviewer="r", purpose="p")
    assert [e["record_id"] for e in store.access_entries()] == ["missing"]


@pytest.mark.parametrize(("reviewer", "purpose"), [("", "p"), ("r", ""), ("  ", "p"), ("r", " ")])
def test_reading_without_reviewer_and_purpose_is_refused_and_nothing_logged(
    tmp_path: Path, reviewer: str, purpose: str
) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"])
    with pytest.raises(AccessRefused):
        store.read("rec1", reviewer=reviewer, purpose=purpose)
    with pytest.raises(AccessRefused):
        store.export(["rec1"], reviewer=reviewer, purpose=purpose)
    assert store.access_entries() == []


def test_export_is_a_decrypted_bundle_with_metadata(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("rec1", PAYLOAD, clauses=["threat"], now_ms=T0)
    bundle = orjson.loads(store.export(["rec1"], reviewer="A", purpose="referral", now_ms=T0 + 9))
    assert bundle["reviewer"] == "A" and bundle["purpose"] == "referral"
    assert bundle["records"] == [
        {
            "id": "rec1",
            "created_at_ms": T0,
            "purge_after_ms": T0 + 30 * DAY_MS,
            "clauses": ["threat"],
            "kid": store.current.kid,
            "payload": PAYLOAD,
        }
    ]


def test_ids_and_clauses_cannot_smuggle_paths_or_text(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(EvidenceError):
        store.put("../escape", PAYLOAD, clauses=["threat"])
    with pytest.raises(EvidenceError):
        store.put("rec1", PAYLOAD, clauses=["I know where you live"])
    with pytest.raises(EvidenceError):
        store.read("../key-check", reviewer="r", purpose="p")


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EvidenceStore:
    monkeypatch.setenv("MODSTREAM_EVIDENCE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("MODSTREAM_EVIDENCE_KEY", KEY_TEXT)
    monkeypatch.setenv("MODSTREAM_EVIDENCE_RETENTION_DAYS", "30")
    # Settings are read whole: the CLI needs the process environment, not just the store's.
    monkeypatch.setenv("MODSTREAM_PSEUDONYM_KEY", "unit-test-pseudonym-key-0123")
    monkeypatch.delenv("MODSTREAM_DEV_MODE", raising=False)
    store = EvidenceStore(tmp_path / "store", KEY, retention_days=30)
    store.put("rec1", PAYLOAD, clauses=["threat"], now_ms=T0)
    return store


def test_cli_export_writes_a_private_bundle_and_logs_it(
    cli_store: EvidenceStore, tmp_path: Path
) -> None:
    out = tmp_path / "referral.json"
    argv = ["export", "--id", "rec1", "--reviewer", "A", "--purpose", "referral", "--out", str(out)]
    assert evidence_cli.main(argv) == 0
    assert orjson.loads(out.read_bytes())["records"][0]["payload"] == PAYLOAD
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [e["op"] for e in cli_store.access_entries()] == ["export"]
    assert evidence_cli.main(argv) == 1, "an existing bundle must not be overwritten"


def test_cli_refuses_a_blank_purpose(
    cli_store: EvidenceStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert evidence_cli.main(["export", "--id", "rec1", "--reviewer", "A", "--purpose", " "]) == 1
    assert "purpose" in capsys.readouterr().err
    assert cli_store.access_entries() == []


def test_cli_purge_and_access_log(
    cli_store: EvidenceStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert evidence_cli.main(["purge", "--now-ms", str(T0 + 29 * DAY_MS)]) == 0
    assert "purged 0" in capsys.readouterr().out
    assert evidence_cli.main(["purge", "--now-ms", str(T0 + 30 * DAY_MS)]) == 0
    assert "purged 1" in capsys.readouterr().out
    assert evidence_cli.main(["access-log"]) == 0
    lines = [orjson.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(e["op"], e["record_id"]) for e in lines] == [("purge", "rec1")]


def test_cli_list_shows_metadata_only(
    cli_store: EvidenceStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert evidence_cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert orjson.loads(out) == {
        "id": "rec1",
        "created_at_ms": T0,
        "purge_after_ms": T0 + 30 * DAY_MS,
        "clauses": ["threat"],
        "kid": cli_store.current.kid,
    }
    assert TEXT not in out
    assert cli_store.access_entries() == []


def test_cli_with_a_wrong_key_fails_clearly(
    cli_store: EvidenceStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODSTREAM_EVIDENCE_KEY", OTHER_TEXT)
    assert evidence_cli.main(["list"]) == 1
    assert "MODSTREAM_EVIDENCE_KEY" in capsys.readouterr().err


# --- keys: 32 random bytes or a passphrase, a key id per record, rotation ------------------


@pytest.mark.parametrize(
    "weak", ["any sixteen bytes!", "dev-only-evidence-key-32-bytes!!", "passphrase:too short"]
)
def test_a_weak_key_is_refused_by_name(weak: str) -> None:
    # The first format took any string of 16 bytes or more, through HKDF: no work factor.
    with pytest.raises(ValueError, match="MODSTREAM_EVIDENCE_KEY"):
        parse_key(weak, "MODSTREAM_EVIDENCE_KEY")


def test_a_passphrase_key_is_stretched_with_the_stores_salt(tmp_path: Path) -> None:
    phrase = parse_key("passphrase:correct horse battery staple ward", "K")
    a, b = _store(tmp_path / "a", key=phrase), _store(tmp_path / "b", key=phrase)
    assert a.current.kid != b.current.kid, "each store salts the passphrase"
    a.put("rec1", PAYLOAD, clauses=["threat"])
    again = _store(tmp_path / "a", key=phrase)
    assert again.read("rec1", reviewer="r", purpose="p").payload == PAYLOAD


def test_new_records_go_under_the_new_key_and_old_ones_stay_readable(tmp_path: Path) -> None:
    _store(tmp_path).put("old", PAYLOAD, clauses=["threat"])
    rotated = _store(tmp_path, key=OTHER, old_keys=(KEY,))
    rotated.put("new", PAYLOAD, clauses=["threat"])
    kids = {m.record_id: m.kid for m in rotated.list_records()}
    assert kids["new"] == rotated.current.kid != kids["old"]
    assert rotated.read("old", reviewer="r", purpose="p").payload == PAYLOAD
    # Without the old key, the old record says which key it needs.
    alone = _store(tmp_path, key=OTHER)
    with pytest.raises(MissingEvidenceKey, match=kids["old"]):
        alone.read("old", reviewer="r", purpose="p")


def test_a_mistyped_key_is_not_adopted_beside_an_unrelated_old_key(tmp_path: Path) -> None:
    _store(tmp_path).put("rec1", PAYLOAD, clauses=["threat"])
    stranger = parse_key(bytes(range(200, 232)).hex(), "K")
    with pytest.raises(WrongEvidenceKey, match="MODSTREAM_EVIDENCE_OLD_KEYS"):
        _store(tmp_path, key=OTHER, old_keys=(stranger,))


def test_rotate_reencrypts_every_record_under_the_current_key(tmp_path: Path) -> None:
    first = _store(tmp_path)
    for i in range(3):
        first.put(f"rec{i}", {**PAYLOAD, "n": i}, clauses=["threat"])
    rotated = _store(tmp_path, key=OTHER, old_keys=(KEY,))
    rotated.put("rec9", PAYLOAD, clauses=["threat"])
    assert rotated.rotate(now_ms=T0 + 5) == ["rec0", "rec1", "rec2"]
    assert rotated.rotate() == []
    # Now the old key is not needed: the store opens and reads with the new one alone.
    alone = _store(tmp_path, key=OTHER)
    assert {m.kid for m in alone.list_records()} == {alone.current.kid}
    assert alone.read("rec2", reviewer="r", purpose="p").payload == {**PAYLOAD, "n": 2}
    assert alone.read("rec2", reviewer="r", purpose="p").meta.created_at_ms == T0
    rotations = [e for e in alone.access_entries() if e["op"] == "rotate"]
    assert [e["record_id"] for e in rotations] == ["rec0", "rec1", "rec2"]


def test_a_store_of_the_first_format_is_read_and_rotated_with_a_legacy_key(
    tmp_path: Path,
) -> None:
    # Written as the first format did: HKDF of any 16+ byte string, no key id.
    secret = b"unit-test-evidence-key-0123456789"
    aead = AESGCM(
        HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LEGACY_RECORD_INFO).derive(
            secret
        )
    )
    nonce = bytes(12)
    (tmp_path / "key-check").write_bytes(
        nonce + aead.encrypt(nonce, _KEY_CHECK_PLAINTEXT, _KEY_CHECK_AAD)
    )
    meta = RecordMeta("rec1", T0, T0 + 30 * DAY_MS, ("threat",))
    sealed = aead.encrypt(nonce, orjson.dumps(PAYLOAD), meta.associated_data())
    document = {
        "v": 1,
        **meta.to_dict(),
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    (tmp_path / "rec1.evidence").write_bytes(orjson.dumps(document))

    legacy = parse_key("legacy:" + secret.decode(), "K", legacy_allowed=True)
    store = _store(tmp_path, key=OTHER, old_keys=(legacy,))
    assert store.read("rec1", reviewer="r", purpose="p").payload == PAYLOAD
    assert store.rotate() == ["rec1"]
    assert _store(tmp_path, key=OTHER).read("rec1", reviewer="r", purpose="p").payload == PAYLOAD


def test_cli_rotate(
    cli_store: EvidenceStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODSTREAM_EVIDENCE_KEY", OTHER_TEXT)
    monkeypatch.setenv("MODSTREAM_EVIDENCE_OLD_KEYS", KEY_TEXT)
    assert evidence_cli.main(["rotate"]) == 0
    out = capsys.readouterr().out
    assert "re-encrypted 1 record(s)" in out and "OLD_KEYS can go" in out
    monkeypatch.delenv("MODSTREAM_EVIDENCE_OLD_KEYS")
    assert evidence_cli.main(["list"]) == 0
    assert orjson.loads(capsys.readouterr().out)["kid"] != cli_store.current.kid
