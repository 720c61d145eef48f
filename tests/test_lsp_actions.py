"""Executing code actions end to end: the real server over stdio, the real SDK
over HTTP to the stub, edits applied through workspace/applyEdit, progress,
cancellation, diagnostics, and one ledger row per attempt with source `lsp`."""

from __future__ import annotations

import ast
import asyncio
import os
import stat
from pathlib import Path

import pytest
from lsp_support import (
    actions,
    apply_text_edits,
    cursor,
    edits_by_uri,
    find,
    ledger_rows,
    open_doc,
    run_action,
    session,
    wait_for,
)
from lsprotocol import types
from stub_api import Hang, Reply, StubAPI

pytestmark = pytest.mark.asyncio

HAIKU, SONNET, OPUS = "claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"
CALC = '''"""Arithmetic helpers."""


def add(a, b):
    return a + b
'''


def only_edit(client: object) -> tuple[dict[str, list[types.TextEdit]], list[str]]:
    edits = client.edits  # type: ignore[attr-defined]
    assert len(edits) == 1, edits
    return edits_by_uri(edits[0])


async def test_docstring_edits_the_unsaved_buffer(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text("# stale content on disk\n")
    stub.script(Reply('"""Add two numbers and return the sum."""'), model=HAIKU)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py", CALC)
        result = await run_action(client, find(await actions(client, uri, cursor(4, 4)), "Add docstring"))
        assert result["status"] == "ok", result
        by_uri, created = only_edit(client)
    new = apply_text_edits(CALC, by_uri[uri])
    func = ast.parse(new).body[1]
    assert isinstance(func, ast.FunctionDef)
    assert ast.get_docstring(func) == "Add two numbers and return the sum."
    assert created == []
    assert "def add(a, b)" in stub.requests[0].text and "stale content" not in stub.requests[0].text
    rows = ledger_rows()
    assert [(r["source"], r["task"], r["tier"], r["outcome"]) for r in rows] == [
        ("lsp", "docstring", "fast", "ok")
    ]
    assert result["request_id"] == rows[0]["request_id"]


async def test_progress_reports_begin_escalation_and_end(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    stub.script(Reply("def broken(:"), model=HAIKU)
    stub.script(Reply('"""Add a and b."""'), model=SONNET)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        result = await run_action(client, find(await actions(client, uri, cursor(4, 4)), "Add docstring"))
    assert result["status"] == "ok" and "after 2 attempts" in result["summary"]
    (reports,) = client.progress_reports.values()
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    middle = [r.message for r in reports[1:-1] if isinstance(r, types.WorkDoneProgressReport)]
    assert middle[0] == f"fast: {HAIKU}"
    assert middle[1].startswith(f"balanced: {SONNET} (escalating:")
    assert reports[-1].message == f"done by balanced ({SONNET}) after 2 attempts"
    assert [(r["tier"], r["outcome"]) for r in ledger_rows()] == [
        ("fast", "check_failed"),
        ("balanced", "ok"),
    ]


async def test_write_tests_never_touches_a_test_file_it_cannot_read(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_calc.py").write_bytes(b"# caf\xe9\ndef test_old():\n    pass\n")
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py", CALC)
        result = await run_action(client, find(await actions(client, uri, cursor(4, 4)), "Write tests"))
    assert result["status"] == "failed", result
    assert "test_calc.py" in result["error"]
    assert (repo / "tests" / "test_calc.py").read_bytes() == b"# caf\xe9\ndef test_old():\n    pass\n"
    assert stub.calls == 0


async def test_write_tests_creates_a_file_that_collects(stub: StubAPI, repo: Path) -> None:
    # `mul` exists only in the unsaved buffer: collection must see the buffer, not the disk.
    (repo / "calc.py").write_text(CALC)
    buffer = CALC + "\n\ndef mul(a, b):\n    return a * b\n"
    stub.script(
        Reply("```python\nfrom calc import nothing_here\n\n\ndef test_x():\n    pass\n```"), model=SONNET
    )
    tests = "from calc import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
    stub.script(Reply(f"Here you go:\n```python\n{tests}```"), model=OPUS)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py", buffer)
        result = await run_action(client, find(await actions(client, uri, cursor(8, 4)), "Write tests"))
        by_uri, created = only_edit(client)
    assert result["status"] == "ok", result
    target = (repo / "tests" / "test_calc.py").as_uri()
    assert created == [target]
    assert apply_text_edits("", by_uri[target]) == tests
    assert not (repo / "tests").exists(), "the server never writes the file itself when the editor can"
    rows = ledger_rows()
    assert [(r["tier"], r["outcome"]) for r in rows] == [("balanced", "check_failed"), ("deep", "ok")]
    assert "collect" in rows[0]["reason"]


async def test_review_publishes_diagnostics(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    findings = '{"findings": [{"line": 5, "severity": "warning", "message": "add accepts any type"}]}'
    stub.script(Reply(f"```json\n{findings}\n```"), model=SONNET)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        selection = types.Range(types.Position(3, 0), types.Position(5, 0))
        result = await run_action(client, find(await actions(client, uri, selection), "Review selection"))
        diags = await wait_for(lambda: client.diagnostics.get(uri), what="publishDiagnostics")
    assert result["status"] == "ok"
    (d,) = diags
    assert d.source == "codetier" and d.severity == types.DiagnosticSeverity.Warning
    assert d.message == "add accepts any type" and d.range.start.line == 4
    assert "4 | def add(a, b):" in stub.requests[0].text


async def test_review_rejects_findings_outside_the_selection(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    stub.script(Reply('{"findings": [{"line": 1, "severity": "error", "message": "x"}]}'), model=SONNET)
    stub.script(Reply('{"findings": []}'), model=OPUS)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        selection = types.Range(types.Position(3, 0), types.Position(5, 0))
        await run_action(client, find(await actions(client, uri, selection), "Review selection"))
        shown = await wait_for(lambda: client.messages, what="showMessage")
    assert "no findings" in shown[0].message and shown[0].type == types.MessageType.Info
    assert "outside the reviewed lines" in ledger_rows()[0]["reason"]


async def test_explain_opens_a_read_only_document(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    stub.script(Reply("It returns the sum of a and b."), model=SONNET)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        result = await run_action(client, find(await actions(client, uri, cursor(4, 4)), "Explain"))
    assert result["status"] == "ok"
    (shown,) = client.shown_documents
    path = Path(shown.uri.removeprefix("file://"))
    assert "It returns the sum of a and b." in path.read_text()
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert Path(os.environ["CODETIER_HOME"]) in path.parents


async def test_explain_as_a_message_when_configured(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    stub.script(Reply("It adds."), model=SONNET)
    async with session(repo, options={"codetier": {"explain_in": "message"}}) as client:
        uri = open_doc(client, repo / "calc.py")
        await run_action(client, find(await actions(client, uri, cursor(4, 4)), "Explain"))
        shown = await wait_for(lambda: client.messages, what="showMessage")
    assert shown[0].message == "It adds." and client.shown_documents == []


async def test_fix_lint_here_touches_only_the_region(repo: Path) -> None:
    source = 'import os\n\n\ndef greet():\n    return f"hello"\n'
    (repo / "greet.py").write_text(source)
    async with session(repo) as client:
        uri = open_doc(client, repo / "greet.py")
        result = await run_action(client, find(await actions(client, uri, cursor(4, 8)), "Fix lint here"))
        by_uri, _ = only_edit(client)
    assert result["status"] == "ok", result
    assert apply_text_edits(source, by_uri[uri]) == 'import os\n\n\ndef greet():\n    return "hello"\n'
    assert [(r["source"], r["task"], r["tier"], r["cost_micros"]) for r in ledger_rows()] == [
        ("lsp", "format_fix", "tool", 0)
    ]


async def test_every_tier_failing_is_a_message_and_nothing_is_applied(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    stub.script(Reply(""), times=None)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        result = await run_action(client, find(await actions(client, uri, cursor(4, 4)), "Add docstring"))
        shown = await wait_for(lambda: client.messages, what="showMessage")
        still = await actions(client, uri, cursor(4, 4))
    assert result["status"] == "failed" and client.edits == [] and still
    assert shown[0].type == types.MessageType.Error
    assert "every attempt failed" in shown[0].message and "not a docstring" in shown[0].message
    assert [(r["tier"], r["outcome"]) for r in ledger_rows()] == [
        ("fast", "check_failed"),
        ("balanced", "check_failed"),
    ]


async def test_budget_refusal_is_a_message(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    async with session(repo, env={"CODETIER_BUDGET__PER_CALL_USD": "0.000001"}) as client:
        uri = open_doc(client, repo / "calc.py")
        await run_action(client, find(await actions(client, uri, cursor(4, 4)), "Add docstring"))
        shown = await wait_for(lambda: client.messages, what="showMessage")
    assert "per-call budget" in shown[0].message and stub.calls == 0
    assert {r["outcome"] for r in ledger_rows()} == {"budget_refused"}


async def test_budget_step_down_is_a_warning(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    stub.script(Reply("It adds."), model=HAIKU)
    env = {"CODETIER_BUDGET__TIER_DAILY_USD__BALANCED": "0.0001"}
    async with session(repo, env=env, options={"codetier": {"explain_in": "message"}}) as client:
        uri = open_doc(client, repo / "calc.py")
        await run_action(client, find(await actions(client, uri, cursor(4, 4)), "Explain"))
        shown = await wait_for(lambda: len(client.messages) >= 2 and client.messages, what="two messages")
    warning, answer = shown[0], shown[1]
    assert warning.type == types.MessageType.Warning
    assert "balanced stepped down to fast" in warning.message
    assert answer.message == "It adds."


async def test_cancel_stops_the_action_and_applies_nothing(stub: StubAPI, repo: Path) -> None:
    (repo / "calc.py").write_text(CALC)
    stub.script(Hang(30), model=HAIKU)
    async with session(repo) as client:
        uri = open_doc(client, repo / "calc.py")
        action = find(await actions(client, uri, cursor(4, 4)), "Add docstring")
        running = asyncio.ensure_future(run_action(client, action))
        await wait_for(lambda: stub.calls, what="the model call")
        (token,) = client.progress_reports
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        result = await asyncio.wait_for(running, 10)
        after = await actions(client, uri, cursor(4, 4))
    assert result == {"status": "cancelled"}
    end = client.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message == "cancelled"
    assert client.edits == [] and after


async def test_fix_lint_escalates_to_the_fast_tier_when_configured(stub: StubAPI, repo: Path) -> None:
    source = 'def greet():\n    unused = 1\n    return "hello"\n'
    (repo / "greet.py").write_text(source)
    stub.script(Reply('```python\ndef greet():\n    return "hello"\n```'), model=HAIKU)
    async with session(repo, options={"codetier": {"fix_with_model": True}}) as client:
        uri = open_doc(client, repo / "greet.py")
        action = find(await actions(client, uri, cursor(1, 4)), "Fix lint here")
        result = await run_action(client, action)
        by_uri, _ = only_edit(client)
    assert action.title.startswith("Fix lint here · tool, then fast · ~$")
    assert result["status"] == "ok", result
    assert apply_text_edits(source, by_uri[uri]) == 'def greet():\n    return "hello"\n'
    assert "F841" in stub.requests[0].text
    assert [(r["tier"], r["outcome"]) for r in ledger_rows()] == [("tool", "check_failed"), ("fast", "ok")]
