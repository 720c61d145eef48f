"""The click group: every subcommand, loaded lazily so `route` stays fast."""

from __future__ import annotations

import importlib
import importlib.util

import click

from codetier import __version__

# name -> "module:attribute"; each module imports only what its command needs.
COMMANDS: dict[str, str] = {
    "route": "codetier.cli.route:route",
    "ask": "codetier.cli.ask:ask",
    "config": "codetier.cli.config_cmd:config",
    "spend": "codetier.cli.spend:spend",
    # Registered here once so feature modules never edit this file.
    "commit-msg": "codetier.cli.commit_msg:commit_msg",
    "changelog": "codetier.cli.changelog:changelog",
    "fix": "codetier.cli.fix:fix",
    "hooks": "codetier.cli.hooks_cmd:hooks",
    "lsp": "codetier.cli.lsp:lsp",
    "daemon": "codetier.cli.daemon:daemon",
    "audit": "codetier.cli.audit:audit",
    "undo": "codetier.cli.undo:undo",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if importlib.util.find_spec(COMMANDS[n].split(":")[0]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            return None  # a command whose feature is not built yet
        command: click.Command = getattr(mod, attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="codetier")
def cli() -> None:
    """Route each coding chore to the cheapest thing that does it well.

    Deterministic tools (ruff, rope, git) first, then Haiku, Sonnet and Opus,
    with every output checked and every call in the spend ledger.
    """
