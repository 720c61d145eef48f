"""The codetier language server: wiring only. Each feature lives in its own module."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from codetier_lsp import actions, documents, formatting, rename, runner, tests_action
from codetier_lsp import docstring as docstring_action
from codetier_lsp import explain as explain_action
from codetier_lsp import fix as fix_action
from codetier_lsp import refactor as refactor_action
from codetier_lsp import review as review_action
from codetier_lsp.state import CodetierServer
from lsprotocol import types

from codetier.engine import Context
from codetier.errors import CodetierError

PREPARE: dict[str, Callable[..., Any]] = {
    "codetier.addDocstring": docstring_action.prepare,
    "codetier.writeTests": tests_action.prepare,
    "codetier.review": review_action.prepare,
    "codetier.explain": explain_action.prepare,
    "codetier.fixLint": fix_action.prepare,
    "codetier.refactor": refactor_action.prepare,
}


def _command(action: actions.Action) -> Callable[..., Coroutine[Any, Any, dict[str, Any]]]:
    prepare = PREPARE[action.command]

    async def run(ls: CodetierServer, *args: Any) -> dict[str, Any]:
        snap = documents.from_args(ls, args)
        try:
            loaded = ls.loaded(snap.root)
            extra = [args[0].get("instruction")] if action.command == "codetier.refactor" else []
            work = prepare(ls, snap, loaded, *extra)
        except CodetierError as e:
            runner.user_error(ls, e)
            return {"status": "failed", "error": str(e)}
        ctx = Context(source="lsp", repo=str(snap.root), session=ls.session)
        return await runner.execute(ls, f"codetier: {action.label}", loaded.reg, ctx, work)

    return run


def _warm(ls: CodetierServer, root: Path) -> None:
    with contextlib.suppress(Exception):  # a bad config is reported when it is used
        ls.loaded(ls.root_for(root / "__init__.py"))


def build() -> CodetierServer:
    ls = CodetierServer()

    @ls.feature(types.INITIALIZE)
    def initialize(ls: CodetierServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        ls.init_options = options if isinstance(options, dict) else {}

    @ls.feature(types.INITIALIZED)
    def initialized(ls: CodetierServer, params: types.InitializedParams) -> None:
        # Warm the config and registry so the first action list is as fast as the rest.
        root = ls.workspace.root_path
        if root:
            threading.Thread(target=_warm, args=(ls, Path(root)), daemon=True).start()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: CodetierServer, params: types.DidChangeConfigurationParams) -> None:
        if isinstance(params.settings, dict):
            ls.init_options = params.settings
        ls.forget_config()

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodetierServer, params: types.DidCloseTextDocumentParams) -> None:
        if ls.reviews.pop(params.text_document.uri, None):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
            )

    ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=sorted({a.kind for a in actions.ACTIONS if a.kind}), resolve_provider=False
        ),
    )(actions.code_actions)
    ls.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)(rename.prepare_rename)
    ls.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))(rename.rename)
    ls.feature(types.TEXT_DOCUMENT_FORMATTING)(formatting.formatting)
    for action in actions.ACTIONS:
        ls.command(action.command)(_command(action))
    return ls


def main(tcp: int | None = None, host: str = "127.0.0.1") -> int:
    """Serve over stdio, or TCP on `host:tcp` for debugging."""
    logging.basicConfig(level=logging.WARNING, format="codetier-lsp %(levelname)s %(name)s: %(message)s")
    ls = build()
    if tcp is not None:
        ls.start_tcp(host, tcp)
    else:
        ls.start_io()
    return 0
