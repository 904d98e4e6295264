"""Fails, naming the packages, when pyproject.toml asks for one a lock file does not pin.

    python3 deploy/check_lock.py requirements-dev.lock dev    # the lock and the extras it holds

Run by `make install` before it installs from the lock: after a dependency is added, the
message says to run `make lock` rather than let pip fail on a missing hash. Standard library
only, so it runs before anything is installed.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([^\]]*)\])?")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wanted(project: dict[str, object], extras: list[str]) -> set[str]:
    """Every package the project and those extras name (its own extras expanded)."""
    own = canonical(str(project["name"]))
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})  # type: ignore[assignment]
    names: set[str] = set()
    pending = [*project.get("dependencies", []), *(d for e in extras for d in optional[e])]  # type: ignore[misc]
    seen_extras = set(extras)
    while pending:
        match = _NAME.match(pending.pop())
        if not match:
            continue
        name = canonical(match.group(1))
        if name == own:  # "modstream[train]": the project's own extras
            for extra in (e.strip() for e in (match.group(2) or "").split(",") if e.strip()):
                if extra not in seen_extras:
                    seen_extras.add(extra)
                    pending.extend(optional[extra])
            continue
        names.add(name)
    return names


def main(argv: list[str]) -> int:
    lock, extras = argv[0], argv[1:]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {canonical(n) for n in _PIN.findall((ROOT / lock).read_text())}
    missing = sorted(wanted(project, extras) - pinned)
    if missing:
        sys.stderr.write(
            f"{lock} does not pin {', '.join(missing)} (pyproject.toml asks for them): "
            "run `make lock` and commit the lock files\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
