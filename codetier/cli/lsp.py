"""`codetier lsp`: the language server."""

from __future__ import annotations

import click


@click.command()
@click.option("--tcp", "port", type=click.IntRange(1, 65535), help="Serve on 127.0.0.1:PORT (for debugging).")
def lsp(port: int | None) -> int:
    """Run the codetier language server over stdio (or TCP with --tcp PORT).

    It offers tiered code actions on Python files, each titled with the tier
    that runs it and a local cost estimate (add docstring, write tests,
    review selection, explain, fix lint here, refactor across modules), plus
    rename (rope, $0) and formatting (ruff format). Every action is checked,
    escalates on failure and is recorded in the spend ledger (`codetier
    spend`). Without ANTHROPIC_API_KEY the tool actions, rename and
    formatting still work.

    Configure your editor to start the command `codetier lsp` for Python
    files, e.g. for Helix in ~/.config/helix/languages.toml:

    \b
        [language-server.codetier]
        command = "codetier"
        args = ["lsp"]

    Settings come from [lsp] in .codetier.toml (or [tool.codetier.lsp] in
    pyproject.toml), overridden by the editor's initializationOptions
    {"codetier": {...}}. Editor setups for VS Code, Neovim and Helix are in
    the codetier documentation (lsp/README.md and docs/lsp.md in the source).
    """
    from codetier_lsp.server import main

    code: int = main(tcp=port)
    return code
