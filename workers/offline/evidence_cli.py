"""``modstream evidence``: export, purge, list and audit the evidence store.

    modstream evidence export --id ID [--id ID ...] --reviewer NAME --purpose TEXT [--out FILE]
    modstream evidence purge [--now-ms MS]
    modstream evidence list
    modstream evidence access-log
    modstream evidence rotate

``export`` writes the decrypted bundle for a safeguarding referral to ``--out`` (created 0600,
never overwritten) or to standard output; every record in it is logged in the store's access
log with the reviewer and purpose. ``list`` shows only the clear metadata (ids, dates, clause
ids, key id) so a reviewer can choose records without reading any. ``rotate`` re-encrypts
every record under the current key, reading the others with ``MODSTREAM_EVIDENCE_OLD_KEYS``.
The key comes from ``MODSTREAM_EVIDENCE_KEY`` and the store from ``MODSTREAM_EVIDENCE_DIR``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click
import orjson

from workers.cli_conventions import group, run_command, subcommand
from workers.evidence_store import EvidenceError, EvidenceStore, wall_clock_ms
from workers.settings import Settings, SettingsError


@group("evidence", help="Export, purge, list and audit the evidence store.")
def evidence_command() -> None:
    pass


@subcommand(evidence_command, "export", help="decrypted bundle of records, for a referral")
@click.option("--id", "ids", multiple=True, required=True, help="record id (repeat for more)")
@click.option("--reviewer", required=True, help="who is reading (logged)")
@click.option("--purpose", required=True, help="why (logged)")
@click.option(
    "--out", type=click.Path(path_type=Path), help="file to create (default: standard output)"
)
def export_command(ids: tuple[str, ...], reviewer: str, purpose: str, out: Path | None) -> int:
    def export(store: EvidenceStore) -> None:
        bundle = store.export(list(ids), reviewer=reviewer, purpose=purpose)
        if out is None:
            sys.stdout.buffer.write(bundle + b"\n")
        else:
            _create_private(out, bundle + b"\n")
            sys.stderr.write(f"wrote {len(ids)} record(s) to {out}\n")

    return _with_store(export)


@subcommand(evidence_command, "purge", help="delete records past the retention period")
@click.option("--now-ms", type=int, help="purge as of this instant (default: now)")
def purge_command(now_ms: int | None) -> int:
    def purge(store: EvidenceStore) -> None:
        purged = store.purge(wall_clock_ms() if now_ms is None else now_ms)
        sys.stdout.write(f"purged {len(purged)} record(s)\n")

    return _with_store(purge)


@subcommand(evidence_command, "list", help="clear metadata of every record (nothing decrypted)")
def list_command() -> int:
    def list_records(store: EvidenceStore) -> None:
        for meta in store.list_records():
            sys.stdout.write(orjson.dumps(meta.to_dict()).decode() + "\n")

    return _with_store(list_records)


@subcommand(
    evidence_command,
    "rotate",
    help="re-encrypt every record under MODSTREAM_EVIDENCE_KEY (safe while the executor runs)",
)
def rotate_command() -> int:
    def rotate(store: EvidenceStore) -> None:
        moved = store.rotate()
        sys.stdout.write(f"re-encrypted {len(moved)} record(s) under key {store.current.kid}\n")
        left = sorted({m.kid or "legacy" for m in store.list_records()} - {store.current.kid})
        if left:  # records written under an old key while this ran: run it again
            sys.stdout.write(f"records still under {', '.join(left)}: run rotate again\n")
        else:
            sys.stdout.write(
                "no record needs the old keys now: MODSTREAM_EVIDENCE_OLD_KEYS can go\n"
            )

    return _with_store(rotate)


@subcommand(evidence_command, "access-log", help="print the access log, one JSON line per access")
def access_log_command() -> int:
    def access_log(store: EvidenceStore) -> None:
        for entry in store.access_entries():
            sys.stdout.write(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS).decode() + "\n")

    return _with_store(access_log)


def _with_store(use: Callable[[EvidenceStore], None]) -> int:
    """Open the store from the settings, run ``use`` on it, and turn what an operator can fix
    into a one-line message and status 1."""
    try:
        use(EvidenceStore.from_settings(Settings.from_env()))
        sys.stdout.flush()
    except (EvidenceError, SettingsError, FileExistsError) as exc:
        sys.stderr.write(f"modstream evidence: {exc}\n")
        return 1
    except BrokenPipeError:
        # Piped into `head`: stop quietly, and keep the interpreter's final flush quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(evidence_command, argv, "modstream evidence")


def _create_private(path: Path, data: bytes) -> None:
    """The bundle is decrypted evidence: readable by its owner only, and an existing file
    (perhaps an earlier referral) is never replaced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


if __name__ == "__main__":
    sys.exit(main())
