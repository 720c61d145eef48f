"""A real pytest-lsp client driving `python -m codetier lsp` over stdio.

Two quirks (MODELS.md): pytest-lsp's client does not answer
`workspace/applyEdit` (we record and accept edits), and lsprotocol decodes a
CodeAction carrying a nested `command` as a Command (we add a structure hook).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import register_lsp_features

from codetier import paths

CAPABILITIES = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True,
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True,
            resource_operations=[types.ResourceOperationKind.Create, types.ResourceOperationKind.Delete],
        ),
        execute_command=types.ExecuteCommandClientCapabilities(),
    ),
    window=types.WindowClientCapabilities(
        work_done_progress=True, show_document=types.ShowDocumentClientCapabilities(support=True)
    ),
    text_document=types.TextDocumentClientCapabilities(
        rename=types.RenameClientCapabilities(prepare_support=True),
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(value_set=list(types.CodeActionKind))
            )
        ),
    ),
)


def converter() -> Any:
    conv = default_converter()

    def command_or_action(obj: Any, _: Any) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return conv.structure(obj, types.Command)  # type: ignore[no-any-return]
        return conv.structure(obj, types.CodeAction)  # type: ignore[no-any-return]

    conv.register_structure_hook(Union[types.Command, types.CodeAction], command_or_action)  # noqa: UP007
    return conv


class Client(LanguageClient):
    edits: list[types.WorkspaceEdit]
    accept_edits: bool
    init_result: types.InitializeResult


def make_client() -> Client:
    client = Client(converter_factory=converter)
    register_lsp_features(client)  # pytest-lsp's recorders of messages, progress, diagnostics
    client.edits = []
    client.accept_edits = True

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(client: Client, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=client.accept_edits)

    return client


@contextlib.asynccontextmanager
async def session(
    root: Path, env: dict[str, str] | None = None, options: dict[str, Any] | None = None
) -> AsyncIterator[Client]:
    """A started, initialized server for the workspace at `root`; shut down on exit."""
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "codetier", "lsp"],
        client_factory=make_client,
        server_env={**os.environ, **(env or {})},
    )
    client = await config.start()
    assert isinstance(client, Client)
    client.init_result = await client.initialize_session(
        types.InitializeParams(
            capabilities=CAPABILITIES,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options,
        )
    )
    try:
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "python", version, text if text is not None else path.read_text())
        )
    )
    return uri


def change_doc(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version, uri),
            [types.TextDocumentContentChangeWholeDocument(text)],
        )
    )


def cursor(line: int, character: int = 0) -> types.Range:
    return types.Range(types.Position(line, character), types.Position(line, character))


async def actions(client: LanguageClient, uri: str, rng: types.Range) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri), rng, types.CodeActionContext(diagnostics=[])
        )
    )
    assert result is not None
    out = [a for a in result if isinstance(a, types.CodeAction)]
    assert len(out) == len(result), "every action is a CodeAction"
    return out


async def run_action(client: LanguageClient, action: types.CodeAction) -> Any:
    assert action.command is not None
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=action.command.command, arguments=action.command.arguments)
    )


def find(found: Sequence[types.CodeAction], prefix: str) -> types.CodeAction:
    for action in found:
        if action.title.startswith(prefix):
            return action
    raise AssertionError(f"no action {prefix!r} in {[a.title for a in found]}")


async def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def apply_text_edits(text: str, edits: Sequence[types.TextEdit]) -> str:
    """Apply LSP edits (utf-16 positions; ASCII test files) to `text`."""
    lines = text.splitlines(keepends=True)

    def offset(pos: types.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        return sum(len(line) for line in lines[: pos.line]) + pos.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
    return text


def edits_by_uri(edit: types.WorkspaceEdit) -> tuple[dict[str, list[types.TextEdit]], list[str]]:
    """({uri: text edits}, [created uris]) from documentChanges or changes."""
    out: dict[str, list[types.TextEdit]] = {}
    created = []
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit):
            out.setdefault(change.text_document.uri, []).extend(
                e for e in change.edits if isinstance(e, types.TextEdit)
            )
        elif isinstance(change, types.CreateFile):
            created.append(change.uri)
    for uri, edits in (edit.changes or {}).items():
        out.setdefault(uri, []).extend(edits)
    return out, created


def ledger_rows() -> list[dict[str, Any]]:
    if not paths.ledger_path().exists():
        return []
    db = sqlite3.connect(paths.ledger_path())
    db.row_factory = sqlite3.Row
    out = [dict(r) for r in db.execute("SELECT * FROM attempts ORDER BY id")]
    db.close()
    return out
