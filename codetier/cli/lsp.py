"""`codetier lsp`: the language server."""

from __future__ import annotations

import click


@click.command()
@click.option("--tcp", "port", type=click.IntRange(1, 65535), help="Serve on 127.0.0.1:PORT (for debugging).")
def lsp(port: int | None) -> int:
    """Run the codetier language server over stdio (or TCP with --tcp PORT).

    Editors start it as `codetier lsp`; see lsp/README.md for VS Code, Neovim and Helix.
    """
    from codetier_lsp.server import main

    code: int = main(tcp=port)
    return code
