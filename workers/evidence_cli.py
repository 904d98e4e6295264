"""``modstream evidence``: export, purge, list and audit the evidence store.

    modstream evidence export --id ID [--id ID ...] --reviewer NAME --purpose TEXT [--out FILE]
    modstream evidence purge [--now-ms MS]
    modstream evidence list
    modstream evidence access-log

``export`` writes the decrypted bundle for a safeguarding referral to ``--out`` (created 0600,
never overwritten) or to standard output; every record in it is logged in the store's access
log with the reviewer and purpose. ``list`` shows only the clear metadata (ids, dates, clause
ids) so a reviewer can choose records without reading any. The key comes from
``MODSTREAM_EVIDENCE_KEY`` and the store from ``MODSTREAM_EVIDENCE_DIR``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from workers.evidence_store import EvidenceError, EvidenceStore, wall_clock_ms
from workers.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modstream evidence", description="Export, purge, list and audit the evidence store."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="decrypted bundle of records, for a referral")
    export.add_argument("--id", dest="ids", action="append", required=True, help="record id")
    export.add_argument("--reviewer", required=True, help="who is reading (logged)")
    export.add_argument("--purpose", required=True, help="why (logged)")
    export.add_argument("--out", type=Path, help="file to create (default: standard output)")
    purge = commands.add_parser("purge", help="delete records past the retention period")
    purge.add_argument("--now-ms", type=int, help="purge as of this instant (default: now)")
    commands.add_parser("list", help="clear metadata of every record (nothing decrypted)")
    commands.add_parser("access-log", help="print the access log, one JSON line per access")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        store = EvidenceStore.from_settings(Settings.from_env())
        if args.command == "export":
            bundle = store.export(args.ids, reviewer=args.reviewer, purpose=args.purpose)
            if args.out is None:
                sys.stdout.buffer.write(bundle + b"\n")
            else:
                _create_private(args.out, bundle + b"\n")
                sys.stderr.write(f"wrote {len(args.ids)} record(s) to {args.out}\n")
        elif args.command == "purge":
            now_ms = wall_clock_ms() if args.now_ms is None else args.now_ms
            purged = store.purge(now_ms)
            sys.stdout.write(f"purged {len(purged)} record(s)\n")
        elif args.command == "list":
            for meta in store.list_records():
                sys.stdout.write(orjson.dumps(meta.to_dict()).decode() + "\n")
        else:
            for entry in store.access_entries():
                sys.stdout.write(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS).decode() + "\n")
        sys.stdout.flush()
    except (EvidenceError, SettingsError, FileExistsError) as exc:
        sys.stderr.write(f"modstream evidence: {exc}\n")
        return 1
    except BrokenPipeError:
        # Piped into `head`: stop quietly, and keep the interpreter's final flush quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


def _create_private(path: Path, data: bytes) -> None:
    """The bundle is decrypted evidence: readable by its owner only, and an existing file
    (perhaps an earlier referral) is never replaced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


if __name__ == "__main__":
    sys.exit(main())
