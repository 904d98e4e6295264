"""``modstream <command>``: one entry point for every process and tool."""

from __future__ import annotations

import importlib
import inspect
import sys

# command -> (module, function, one line of help). Modules load lazily: `modstream eval` must
# not pay for importing Faust.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "worker": ("workers.worker", "main", "run a stream worker (all stages)"),
    "executor": ("workers.executor", "main", "run the action executor"),
    "demo": ("workers.demo", "main", "the whole pipeline on the local stack with a sample feed"),
    "feed": ("workers.sample_feed", "main", "produce the sample feed to comments.raw"),
    "eval": ("workers.evaluate", "main", "classifier precision/recall on labelled data"),
    "links": ("workers.linking_cli", "main", "explain or split sock-puppet links"),
    "link-eval": ("workers.evaluate_linking", "main", "linking precision/recall (synthetic)"),
    "evidence": ("workers.evidence_cli", "main", "export, purge and audit the evidence store"),
    "replay": ("workers.replay", "main", "re-run a topic range in an isolated namespace"),
    "audit": ("workers.audit", "main", "compare a replay's decisions with the recorded ones"),
    "explain": ("workers.explain", "main", "the decision trail of one comment or account"),
    "connect": ("workers.connect", "main", "platform connector: meta|youtube|x|linkedin|forget"),
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"} or args[0] not in COMMANDS:
        width = max(map(len, COMMANDS))
        print("usage: modstream <command> [args]\n")
        for name, (_, _, text) in COMMANDS.items():
            print(f"  {name:<{width}}  {text}")
        return 0 if args and args[0] in {"-h", "--help", "help"} else 2
    module, func, _ = COMMANDS[args[0]]
    entry = getattr(importlib.import_module(module), func)
    sys.argv = [f"modstream {args[0]}", *args[1:]]
    # Process entry points (worker, executor, demo) take no argv; tools take it explicitly.
    takes_argv = bool(inspect.signature(entry).parameters)
    result = entry(args[1:]) if takes_argv else entry()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
