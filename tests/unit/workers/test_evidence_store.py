"""The evidence store: encrypted at rest, authenticated metadata, retention, logged access."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import orjson
import pytest

from workers import evidence_cli
from workers.evidence_store import (
    ACCESS_LOG,
    DAY_MS,
    AccessRefused,
    EvidenceError,
    EvidenceStore,
    EvidenceTampered,
    RecordNotFound,
    WrongEvidenceKey,
)

KEY = b"unit-test-evidence-key-0123456789"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
TEXT = "You will regret this, I know where the ward nurse parks"
PAYLOAD = {"content": TEXT, "comment_id": "facebook:1234567890", "author_key": "a" * 32}


def _store(directory: Path, key: bytes = KEY, retention_days: int = 30) -> EvidenceStore:
    return EvidenceStore(directory, key, retention_days=retention_days, clock=lambda: T0)


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
        "nonce",
        "ciphertext",
    }
    assert document["clauses"] == ["safeguarding", "threat"]
    assert document["purge_after_ms"] == T0 + 30 * DAY_MS
    assert len(base64.b64decode(document["nonce"])) == 12


def test_files_are_private_to_the_owner(tmp_path: Path) -> None:
    store = _store(tmp_path / "evidence")
    store.put("rec1", PAYLOAD, clauses=["threat"])
    store.read("rec1", reviewer="r", purpose="p")
    assert stat.S_IMODE((tmp_path / "evidence").stat().st_mode) == 0o700
    for name in ("rec1.evidence", ACCESS_LOG, "key-check"):
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
        _store(tmp_path, key=b"another-key-entirely-0123456789")


def test_a_wrong_key_cannot_decrypt_a_record_even_without_the_key_check(tmp_path: Path) -> None:
    _store(tmp_path / "a").put("rec1", PAYLOAD, clauses=["threat"])
    other = _store(tmp_path / "b", key=b"another-key-entirely-0123456789")
    (tmp_path / "b" / "rec1.evidence").write_bytes((tmp_path / "a" / "rec1.evidence").read_bytes())
    with pytest.raises(EvidenceTampered, match="failed authentication"):
        other.read("rec1", reviewer="r", purpose="p")


def test_a_store_with_records_but_no_key_check_is_not_adopted_by_a_new_key(
    tmp_path: Path,
) -> None:
    _store(tmp_path).put("rec1", PAYLOAD, clauses=["threat"])
    (tmp_path / "key-check").unlink()
    with pytest.raises(EvidenceError, match="restore it from backup"):
        _store(tmp_path, key=b"another-key-entirely-0123456789")


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
    monkeypatch.setenv("MODSTREAM_EVIDENCE_KEY", KEY.decode())
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
    }
    assert TEXT not in out
    assert cli_store.access_entries() == []


def test_cli_with_a_wrong_key_fails_clearly(
    cli_store: EvidenceStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODSTREAM_EVIDENCE_KEY", "another-key-entirely-0123456789")
    assert evidence_cli.main(["list"]) == 1
    assert "MODSTREAM_EVIDENCE_KEY" in capsys.readouterr().err
