"""The tool tier in the editor: rename through rope across modules (on unsaved
buffers too) and formatting through ruff, with no model and no key."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_support import apply_text_edits, edits_by_uri, ledger_rows, open_doc, session
from lsprotocol import types
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.asyncio

A = "def helper(x):\n    return x + 1\n"
B = "from a import helper\n\n\ndef use():\n    return helper(2)\n"


def project(repo: Path) -> None:
    (repo / "a.py").write_text(A)
    (repo / "b.py").write_text(B)


async def rename(client: object, uri: str, line: int, character: int, new: str) -> types.WorkspaceEdit:
    result = await client.text_document_rename_async(  # type: ignore[attr-defined]
        types.RenameParams(types.TextDocumentIdentifier(uri), types.Position(line, character), new)
    )
    assert isinstance(result, types.WorkspaceEdit)
    return result


async def test_rename_across_two_modules(repo: Path) -> None:
    project(repo)
    async with session(repo) as client:
        uri = open_doc(client, repo / "a.py")
        prepared = await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(types.TextDocumentIdentifier(uri), types.Position(0, 6))
        )
        edit = await rename(client, uri, 0, 6, "increment")
    assert prepared == types.Range(types.Position(0, 4), types.Position(0, 10))
    by_uri, _ = edits_by_uri(edit)
    assert apply_text_edits(A, by_uri[uri]) == "def increment(x):\n    return x + 1\n"
    b_uri = (repo / "b.py").as_uri()
    assert apply_text_edits(B, by_uri[b_uri]) == B.replace("helper", "increment")
    assert (repo / "a.py").read_text() == A and (repo / "b.py").read_text() == B, "disk untouched"
    assert [(r["source"], r["task"], r["tier"], r["cost_micros"]) for r in ledger_rows()] == [
        ("lsp", "rename", "tool", 0)
    ]


async def test_rename_sees_unsaved_buffers(repo: Path) -> None:
    project(repo)
    b_buffer = B + "\n\ndef twice():\n    return helper(helper(0))\n"
    async with session(repo) as client:
        a_uri = open_doc(client, repo / "a.py")
        b_uri = open_doc(client, repo / "b.py", b_buffer, version=7)
        edit = await rename(client, a_uri, 0, 6, "bump")
    by_uri, _ = edits_by_uri(edit)
    assert apply_text_edits(b_buffer, by_uri[b_uri]) == b_buffer.replace("helper", "bump")
    versions = {c.text_document.uri: c.text_document.version for c in edit.document_changes or []}
    assert versions[b_uri] == 7, "edits to open buffers carry their version"
    assert (repo / "b.py").read_text() == B


async def test_prepare_rename_refuses_keywords_and_rename_refuses_bad_names(repo: Path) -> None:
    project(repo)
    async with session(repo) as client:
        uri = open_doc(client, repo / "a.py")
        on_def = await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(types.TextDocumentIdentifier(uri), types.Position(0, 1))
        )
        with pytest.raises(JsonRpcException, match="not a valid Python identifier"):
            await rename(client, uri, 0, 6, "not valid")
        with pytest.raises(JsonRpcException, match="rope cannot rename"):
            await rename(client, uri, 1, 4, "ret")
    assert on_def is None


async def test_formatting_uses_ruff_on_the_buffer(repo: Path) -> None:
    (repo / "ugly.py").write_text("x = 1\n")
    buffer = "def f( a,b ):\n  return {'a':a,'b':b}\n"
    async with session(repo) as client:
        uri = open_doc(client, repo / "ugly.py", buffer)
        edits = await client.text_document_formatting_async(
            types.DocumentFormattingParams(
                types.TextDocumentIdentifier(uri), types.FormattingOptions(tab_size=4, insert_spaces=True)
            )
        )
        again = await client.text_document_formatting_async(
            types.DocumentFormattingParams(
                types.TextDocumentIdentifier(uri), types.FormattingOptions(tab_size=4, insert_spaces=True)
            )
        )
    assert apply_text_edits(buffer, edits or []) == 'def f(a, b):\n    return {"a": a, "b": b}\n'
    assert again, "formatting does not apply edits itself: the buffer is unchanged until the editor does"
    assert ledger_rows() == []
