"""Write tests (balanced): edits or creates tests/test_<module>.py. The chore's
check parses the file and runs `pytest --collect-only` on it in a shadow copy
of the project with the unsaved buffers written in."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from codetier_lsp import documents, edits
from codetier_lsp.documents import Snapshot
from codetier_lsp.estimate import route_for
from codetier_lsp.runner import Outcome, Work
from codetier_lsp.state import CodetierServer, Loaded
from lsprotocol import types

from codetier import chores
from codetier.chores.test_writing import WrittenTests, tests_path
from codetier.errors import CodetierError


def python_for(root: Path, configured: str) -> str:
    """The configured Python, else the repository's .venv, else the server's own."""
    if configured:
        return configured
    for candidate in (root / ".venv" / "bin" / "python", root / ".venv" / "Scripts" / "python.exe"):
        if candidate.is_file():
            return str(candidate)
    return sys.executable


def can_create(ls: CodetierServer) -> bool:
    ops = getattr(ls.client_capabilities.workspace, "workspace_edit", None)
    resource_ops = getattr(ops, "resource_operations", None) or []
    return ls.supports(
        "workspace.workspace_edit.document_changes"
    ) and types.ResourceOperationKind.Create in (resource_ops)


def prepare(ls: CodetierServer, snap: Snapshot, loaded: Loaded) -> Callable[[Work], Outcome]:
    units = ls.workspace.position_codec.client_num_units
    target = tests_path(snap.rel, loaded.settings.tests_dir)
    target_path = snap.root / target
    existing, version = documents.open_text(ls, target_path)
    overlay = documents.dirty_buffers(ls, snap.root)
    python = python_for(snap.root, loaded.settings.test_python)
    creatable = can_create(ls)

    def work(w: Work) -> Outcome:
        if existing is None and target_path.exists():  # not UTF-8, or unreadable: never overwrite it
            raise CodetierError(f"{target}: exists but could not be read as UTF-8 text; left it as it was")
        req = chores.Request(
            text="write tests",
            root=snap.root,
            options={
                "source": snap.source,
                "path": snap.rel,
                "line": snap.start,
                "tests_dir": loaded.settings.tests_dir,
                "existing": existing,
                "overlay": {**overlay, snap.rel: snap.source},
                "python": python,
            },
        )
        result = w.run(chores.get("test_writing").job(req, w.reg), route_for(w.reg, "test_writing"))
        tests: WrittenTests = result.value
        uri = documents.uri_of(target_path)
        if existing is None and not creatable:
            # The editor cannot create files through an edit: write the new file and open it.
            target_path.parent.mkdir(parents=True, exist_ok=True)
            target_path.write_text(tests.content, "utf-8")
            return Outcome(show=uri, written=[uri], result=result)
        change = edits.change(uri, existing, tests.content, version, units)
        return Outcome(changes=[change], result=result)

    return work
