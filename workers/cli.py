"""``modstream <command>``: one entry point for every process and tool.

Each command is also a console script of its own (``modstream-worker``, ``modstream-replay``…,
see ``pyproject.toml``) and ``python -m <module>``; all three run the same click command.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Sequence

import click

from workers.cli_conventions import CONTEXT_SETTINGS, run_command, with_version

# command -> (module, function, one line of help). Modules load lazily: `modstream eval` must
# not pay for importing Faust. The function takes the command's arguments and returns its exit
# status (see workers.cli_conventions.run). One line per command, however long, so that
# commands added in parallel merge cleanly (hence fmt: off and E501 off for this file).
# fmt: off
COMMANDS: dict[str, tuple[str, str, str]] = {
    "worker": ("workers.processes.worker", "main", "run a stream worker (all stages)"),
    "executor": ("workers.executor.executor", "main", "run the action executor"),
    "demo": ("workers.dev.demo", "main", "the whole pipeline on the local stack with a sample feed"),
    "feed": ("workers.dev.sample_feed", "main", "produce the sample feed to comments.raw"),
    "eval": ("workers.offline.evaluate", "main", "classifier precision/recall on labelled data"),
    "classify": ("workers.offline.classify_cli", "main", "classify comments from stdin or files, as JSON"),
    "links": ("workers.offline.linking_cli", "main", "explain or split sock-puppet links"),
    "link-eval": ("workers.offline.evaluate_linking", "main", "linking precision/recall (synthetic)"),
    "evidence": ("workers.offline.evidence_cli", "main", "export, purge and audit the evidence store"),
    "replay": ("workers.offline.replay", "main", "re-run a topic range in an isolated namespace"),
    "audit": ("workers.offline.audit", "main", "compare a replay's decisions with the recorded ones"),
    "explain": ("workers.offline.explain", "main", "the decision trail of one comment or account"),
    "console": ("workers.console.__main__", "main", "the moderator console (web, port 8080)"),
    "train": ("workers.offline.train_models", "main", "build the text-model artefact from the corpora"),
    "connect": ("workers.processes.connect", "main", "platform connector: meta|youtube|x|linkedin|forget"),
}
# fmt: on


def _forward(name: str) -> click.Command:
    """A command that hands its arguments, ``--help`` included, to the module's entry point:
    the module owns its options, and is imported only when its command runs."""
    module, func, text = COMMANDS[name]

    @click.pass_context
    def call(ctx: click.Context, args: tuple[str, ...]) -> None:
        entry = getattr(importlib.import_module(module), func)
        if inspect.signature(entry).parameters:
            status = entry(list(args))
        else:  # an entry point that reads sys.argv itself
            sys.argv = [f"modstream {name}", *args]
            status = entry()
        ctx.exit(int(status or 0))

    return click.Command(
        name,
        callback=call,
        help=text,
        short_help=text,
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        context_settings={
            "ignore_unknown_options": True,
            "allow_extra_args": True,
            "help_option_names": [],
        },
        add_help_option=False,
    )


class _Commands(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _forward(cmd_name) if cmd_name in COMMANDS else None


modstream = with_version(
    _Commands(
        "modstream",
        help="Enforce a social-media acceptable-use policy on a stream of comments.",
        context_settings=CONTEXT_SETTINGS,
    )
)


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(modstream, argv, "modstream")


if __name__ == "__main__":
    sys.exit(main())
