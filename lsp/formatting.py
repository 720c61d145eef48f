"""`textDocument/formatting` through `ruff format` on the buffer (stdin), at $0.

Not written to the ledger: format-on-save would add a row per save with
nothing to account for; explicit actions and renames are recorded.
"""

from __future__ import annotations

from codetier_lsp import documents, edits, runner
from codetier_lsp.state import CodetierServer
from lsprotocol import types

from codetier.tools import ruff


async def formatting(
    ls: CodetierServer, params: types.DocumentFormattingParams
) -> list[types.TextEdit] | None:
    doc = documents.document(ls, params.text_document.uri)
    path = documents.path_of(doc.uri)
    root = ls.root_for(path)
    source = doc.source
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.name
    formatted = await runner.in_thread(lambda: ruff.format_text(source, rel, root), "codetier-format")
    if formatted == source:
        return []
    return edits.line_edits(source, formatted, ls.workspace.position_codec.client_num_units)
