"""`codetier lsp` over stdio with a real client: the session, the action list
(titles with tier and estimate, golden), invalid params, and the no-key message."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from lsp_support import actions, cursor, ledger_rows, open_doc, run_action, session, wait_for
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

pytestmark = pytest.mark.asyncio

GOLDEN = Path(__file__).parent / "golden" / "lsp_action_titles.txt"
SAMPLE = '''"""Arithmetic helpers."""


def add(a, b):
    return a + b


class Box:
    """A box."""

    def size(self):
        return 1
'''
COMMANDS = {
    "codetier.addDocstring",
    "codetier.writeTests",
    "codetier.review",
    "codetier.explain",
    "codetier.fixLint",
    "codetier.refactor",
}
TITLE = re.compile(
    r"^(?P<what>[^·]+) · (?P<tier>tool|fast|balanced|deep)(?:, then fast)? · (?P<cost>\$0|~\$\d+\.\d+)$"
)


async def test_initialize_advertises_actions_rename_and_formatting(repo: Path) -> None:
    async with session(repo) as client:
        caps = client.init_result.capabilities
        info = client.init_result.server_info
    assert info is not None and info.name == "codetier"
    assert isinstance(caps.code_action_provider, types.CodeActionOptions)
    assert types.CodeActionKind.QuickFix in (caps.code_action_provider.code_action_kinds or [])
    assert isinstance(caps.rename_provider, types.RenameOptions) and caps.rename_provider.prepare_provider
    assert caps.document_formatting_provider
    assert caps.execute_command_provider is not None
    assert set(caps.execute_command_provider.commands) == COMMANDS
    assert caps.text_document_sync is not None


async def test_action_titles_name_the_tier_and_an_estimate(repo: Path) -> None:
    (repo / "calc.py").write_text(SAMPLE)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        at_add = await actions(client, uri, cursor(4, 4))
        selection = types.Range(types.Position(3, 0), types.Position(5, 0))
        selected = await actions(client, uri, selection)
        in_method = await actions(client, uri, cursor(11, 8))
        quickfix_only = await actions(
            client, uri, cursor(4, 4)
        )  # same cursor; filtering by kind is checked below
        only = await client.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(uri),
                cursor(4, 4),
                types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix]),
            )
        )
    for found in (at_add, selected, in_method):
        for action in found:
            assert TITLE.match(action.title), action.title
            assert action.command is not None and action.command.command in COMMANDS
    assert [a.title for a in quickfix_only] == [a.title for a in at_add]
    assert [a.title for a in only or []] == ["Fix lint here · tool · $0"]
    lines = ["# cursor in add()", *(a.title for a in at_add)]
    lines += ["# lines 4-5 selected", *(a.title for a in selected)]
    lines += ["# cursor in Box.size()", *(a.title for a in in_method)]
    text = "\n".join(lines) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "action titles changed: UPDATE_GOLDEN=1 and review the diff"


async def test_titles_follow_the_registry(repo: Path) -> None:
    (repo / "calc.py").write_text(SAMPLE)
    (repo / ".codetier.toml").write_text('[tasks.docstring]\ntier = "balanced"\nfallbacks = []\n')
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        titles = [a.title for a in await actions(client, uri, cursor(4, 4))]
    assert any(t.startswith("Add docstring · balanced · ~$") for t in titles), titles


async def test_invalid_params_get_an_error_and_the_server_keeps_answering(repo: Path) -> None:
    (repo / "calc.py").write_text(SAMPLE)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        with pytest.raises(JsonRpcInvalidParams, match="unknown document"):
            await actions(client, (repo / "nope.py").as_uri(), cursor(0))
        with pytest.raises(JsonRpcInvalidParams, match="outside"):
            await actions(client, uri, cursor(400))
        with pytest.raises(JsonRpcInvalidParams, match="past the end"):
            await actions(client, uri, cursor(3, 80))
        with pytest.raises(JsonRpcInvalidParams):
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams("codetier.explain", [{"uri": uri, "range": "bad"}])
            )
        with pytest.raises(JsonRpcInvalidParams, match="outside"):
            await client.text_document_rename_async(
                types.RenameParams(types.TextDocumentIdentifier(uri), types.Position(99, 0), "x")
            )
        found = await actions(client, uri, cursor(4, 4))
    assert found, "the server still answers after bad requests"


async def test_no_key_is_one_clear_message(repo: Path) -> None:
    (repo / "calc.py").write_text(SAMPLE)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        docstring = next(
            a for a in await actions(client, uri, cursor(4, 4)) if a.title.startswith("Add docstring")
        )
        result = await run_action(client, docstring)
        shown = await wait_for(lambda: client.messages, what="window/showMessage")
        again = await actions(client, uri, cursor(4, 4))
    assert result["status"] == "failed"
    assert len(shown) == 1 and shown[0].type == types.MessageType.Error
    assert "ANTHROPIC_API_KEY" in shown[0].message and "Traceback" not in shown[0].message
    assert client.edits == [] and again
    assert ledger_rows() == []


async def test_a_bad_config_is_shown_once_and_names_the_key(repo: Path) -> None:
    (repo / "calc.py").write_text(SAMPLE)
    (repo / ".codetier.toml").write_text('[tasks.docstring]\ntier = "cheap"\n')
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        first = await actions(client, uri, cursor(4, 4))
        second = await actions(client, uri, cursor(3, 0))
        shown = await wait_for(lambda: client.messages, what="showMessage")
    assert first == [] and second == []
    assert len(shown) == 1 and ".codetier.toml: tasks.docstring.tier: expected one of" in shown[0].message


async def test_tcp_mode_serves_the_same_server(repo: Path) -> None:
    import asyncio
    import socket
    import subprocess
    import sys

    from lsp_support import CAPABILITIES
    from pygls.lsp.client import LanguageClient as PlainClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "codetier", "lsp", "--tcp", str(port)])
    client = PlainClient("test", "1")
    try:

        async def connect() -> bool:
            try:
                await client.start_tcp("127.0.0.1", port)
            except OSError:
                return False
            return True

        deadline = asyncio.get_running_loop().time() + 30
        while not await connect():
            assert asyncio.get_running_loop().time() < deadline, "the TCP server never listened"
            await asyncio.sleep(0.05)
        result = await client.initialize_async(types.InitializeParams(capabilities=CAPABILITIES))
        assert result.server_info is not None and result.server_info.name == "codetier"
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
        proc.terminate()
        proc.wait(timeout=10)
