"""Explain (balanced): the generic explain chore on the selection (or the def
at the cursor), shown as a read-only Markdown document or as a message."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

from codetier_lsp import documents
from codetier_lsp.documents import Snapshot
from codetier_lsp.estimate import route_for
from codetier_lsp.review import region
from codetier_lsp.runner import Outcome, Work
from codetier_lsp.state import CodetierServer, Loaded

from codetier import chores, paths
from codetier.chores.base import text_of


def write_readonly(name: str, text: str) -> str:
    """Write the explanation under CODETIER_HOME/lsp/ as a read-only file; its URI."""
    folder = paths.home() / "lsp" / "explain"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.md"
    with contextlib.suppress(FileNotFoundError):
        path.chmod(0o644)
        path.unlink()
    path.write_text(text, "utf-8")
    path.chmod(0o444)
    return documents.uri_of(path)


def prepare(ls: CodetierServer, snap: Snapshot, loaded: Loaded) -> Callable[[Work], Outcome]:
    start, end = region(snap)
    as_document = loaded.settings.explain_in == "document" and ls.supports("window.show_document.support")

    def work(w: Work) -> Outcome:
        code = "\n".join(snap.lines[start : end + 1])
        text = f"Explain this code from {snap.rel} (lines {start + 1}-{end + 1}):\n```python\n{code}\n```"
        req = chores.Request(text=text, root=snap.root)
        result = w.run(chores.get("explain").job(req, w.reg), route_for(w.reg, "explain"))
        answer = text_of(result)
        if not as_document:
            return Outcome(message=answer, result=result)
        header = f"# {snap.rel}, lines {start + 1}-{end + 1}\n\n"
        uri = write_readonly(f"{snap.rel}-{start + 1}-{end + 1}", header + answer + "\n")
        return Outcome(show=uri, result=result)

    return work
