"""What every ``modstream`` command shares: ``-h``/``--help`` and ``--version`` that never start
anything, usage errors on standard error with exit status 2, and one way to run a command both
as a console script and from ``modstream <command>`` or a test.

click parses options before any callback runs, so ``--help`` and ``--version`` answer without
reading settings, importing Faust or opening a connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

import click

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def version() -> str:
    """The installed distribution's version; a source tree that was never installed says so."""
    try:
        return metadata.version("modstream")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"modstream {version()}")
        ctx.exit(0)


def with_version(cmd: click.Command) -> click.Command:
    # Eager and looked up only when asked for: it answers before any other option is checked.
    option = click.Option(
        ["--version"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_print_version,
        help="Show the version and exit.",
    )
    cmd.params.append(option)
    return cmd


def command(
    name: str, *, help: str | None = None, epilog: str | None = None
) -> Callable[[Callable[..., Any]], click.Command]:
    """``click.command`` with the conventions above."""

    def wrap(func: Callable[..., Any]) -> click.Command:
        make = click.command(name, cls=click.Command, context_settings=CONTEXT_SETTINGS)
        cmd = make(func)
        cmd.help, cmd.epilog = help or cmd.help, epilog
        return with_version(cmd)

    return wrap


def group(name: str, *, help: str) -> Callable[[Callable[..., Any]], click.Group]:
    """``click.group`` with the conventions above; its subcommands come from ``subcommand``."""

    def wrap(func: Callable[..., Any]) -> click.Group:
        grp = click.group(name, cls=click.Group, context_settings=CONTEXT_SETTINGS)(func)
        grp.help = help
        with_version(grp)
        return grp

    return wrap


def subcommand(
    parent: click.Group, name: str, *, help: str
) -> Callable[[Callable[..., Any]], click.Command]:
    """A command of ``parent`` that has ``--help`` and ``--version`` too."""

    def wrap(func: Callable[..., Any]) -> click.Command:
        cmd = command(name, help=help)(func)
        parent.add_command(cmd)
        return cmd

    return wrap


def run_command(cmd: click.Command, argv: Sequence[str] | None, prog_name: str) -> int:
    """Run ``cmd`` on ``argv`` (``sys.argv[1:]`` when None) and return its exit status.

    The callback's integer return value is the status, which click's standalone mode would
    drop; help and version give 0; a usage error is printed on standard error and gives 2.
    """
    try:
        result = cmd.main(
            args=None if argv is None else list(argv), prog_name=prog_name, standalone_mode=False
        )
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    return result if isinstance(result, int) else 0


def parse(cmd: click.Command, argv: Sequence[str], prog_name: str) -> dict[str, Any]:
    """The parameters ``cmd`` would be called with, without calling it (for tests and for
    tools that build on another command's options)."""
    with cmd.make_context(prog_name, list(argv)) as ctx:
        return dict(ctx.params)
