"""Refactor across modules… runs plan → execute: the real server over stdio
(or `compute_edit` in-process for cancellation), the real SDK over HTTP to the
stub, a real git repo whose own tests the verify_command runs, and one
WorkspaceEdit for the whole change. Nothing on disk is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from codetier_lsp import refactor
from codetier_lsp.runner import Cancelled, Work
from lsp_support import (
    Client,
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
from plan_support import (
    HAIKU,
    HAPPY_PLAN,
    NEW_SERVICE,
    NEW_STORAGE,
    NOTES,
    OPUS,
    REQUEST,
    SERVICE,
    SONNET,
    STORAGE,
    answer,
    make_project,
    marker,
    plan_json,
    script_happy,
    script_plan,
    snapshot,
    subtask,
    udiff,
)
from stub_api import Callback, Recorded, Reply, StubAPI

from codetier import config, output, registry
from codetier.engine import Context
from codetier.plan.planner import PlanFailed


async def _refactor(client: Client, uri: str, line: int, instruction: str) -> Any:
    action = find(await actions(client, uri, cursor(line, 4)), "Refactor across modules")
    assert action.command is not None and action.command.arguments
    action.command.arguments = [{**action.command.arguments[0], "instruction": instruction}]
    return await run_action(client, action)


def _one_edit(client: Client) -> tuple[dict[str, list[types.TextEdit]], list[str]]:
    assert len(client.edits) == 1, client.edits
    return edits_by_uri(client.edits[0])


@pytest.mark.asyncio
async def test_refactor_across_modules_is_one_workspace_edit_from_a_plan(stub: StubAPI, repo: Path) -> None:
    make_project(repo)
    script_happy(stub)
    before = snapshot(repo)
    async with session(repo) as client:
        uri = open_doc(client, repo / "shop/storage.py")
        result = await _refactor(client, uri, 3, REQUEST)
        by_uri, created = _one_edit(client)
        shown = await wait_for(lambda: client.messages, what="showMessage")
    assert result["status"] == "ok", result
    assert apply_text_edits(STORAGE, by_uri[uri]) == NEW_STORAGE
    assert apply_text_edits(SERVICE, by_uri[(repo / "shop/service.py").as_uri()]) == NEW_SERVICE
    notes = (repo / "docs/storage.md").as_uri()
    assert created == [notes] and apply_text_edits("", by_uri[notes]) == NOTES
    assert snapshot(repo) == before  # the editor applies the edit, not the server
    # The deep model planned with the file the action started in; cheaper tiers executed.
    plan_prompt = stub.texts_for(OPUS)[0]
    assert REQUEST in plan_prompt and "File shop/storage.py:" in plan_prompt
    rows = ledger_rows()
    assert {(r["source"], r["request_id"]) for r in rows} == {("lsp", result["request_id"])}
    assert [(r["phase"], r["tier"], r["model"]) for r in rows if r["phase"] == "plan"] == [
        ("plan", "deep", OPUS)
    ]
    assert sorted(r["model"] for r in rows if r["phase"] == "execute") == [HAIKU, HAIKU, SONNET]
    # Progress names the plan and every subtask as it finishes.
    (token,) = client.progress_reports
    reports = [
        r.message for r in client.progress_reports[token] if isinstance(r, types.WorkDoneProgressReport)
    ]
    assert "plan: 3 subtasks in 2 levels" in reports
    assert {m.split(" (")[0] for m in reports if m and m.startswith("subtask ")} == {
        "subtask storage",
        "subtask notes",
        "subtask service",
    }
    assert reports[-1] == f"subtask service (3/3): balanced ({SONNET})"
    # The message reports the whole request: plan + execution = total.
    (info,) = [m for m in shown if m.type == types.MessageType.Info]
    plan_cost = sum(r["cost_micros"] for r in rows if r["phase"] == "plan")
    total = sum(r["cost_micros"] for r in rows)
    assert f"plan {output.usd(plan_cost)} + execution " in info.message
    assert f"= {output.usd(total)};" in info.message and total > plan_cost
    assert info.message.startswith("codetier: Refactor across modules (3 files)")


SERVICE_BUFFER = SERVICE.replace("    save(db, key, value)\n", "    save(db, key, value)\n    return value\n")
NEW_SERVICE_BUFFER = NEW_SERVICE.replace(
    "    put_item(db, key, value)\n", "    put_item(db, key, value)\n    return value\n"
)


@pytest.mark.asyncio
async def test_refactor_edits_the_unsaved_buffers(stub: StubAPI, repo: Path) -> None:
    make_project(repo)
    script_plan(
        stub,
        plan_json(
            subtask("storage", ["shop/storage.py"], []),
            subtask("service", ["shop/service.py"], ["storage"], tier="balanced"),
        ),
    )
    stub.script(
        Reply(answer("renamed", udiff("shop/storage.py", STORAGE, NEW_STORAGE))), match=marker("storage")
    )
    # The diff is against the unsaved buffer: it does not apply to the file on disk.
    service_diff = udiff("shop/service.py", SERVICE_BUFFER, NEW_SERVICE_BUFFER)
    stub.script(Reply(answer("callers", service_diff)), match=marker("service"))
    async with session(repo) as client:
        uri = open_doc(client, repo / "shop/storage.py")
        service = open_doc(client, repo / "shop/service.py", SERVICE_BUFFER)
        result = await _refactor(client, uri, 3, REQUEST)
        by_uri, _ = _one_edit(client)
    assert result["status"] == "ok", result
    assert apply_text_edits(SERVICE_BUFFER, by_uri[service]) == NEW_SERVICE_BUFFER
    assert (repo / "shop/service.py").read_text() == SERVICE
    assert "return value" in next(t for t in stub.texts_for(SONNET) if marker("service") in t)


@pytest.mark.asyncio
async def test_a_failed_subtask_is_a_message_with_the_cost_and_nothing_is_applied(
    stub: StubAPI, repo: Path
) -> None:
    make_project(repo)
    script_plan(stub, HAPPY_PLAN)
    bad = "--- a/shop/storage.py\n+++ b/shop/storage.py\n@@ -1,1 +1,1 @@\n-def nothing():\n+def x():\n"
    stub.script(Reply(answer("oops", bad)), match=marker("storage"), times=None)
    stub.script(Reply(answer("notes", udiff("docs/storage.md", None, NOTES))), match=marker("notes"))
    async with session(repo) as client:
        uri = open_doc(client, repo / "shop/storage.py")
        result = await _refactor(client, uri, 3, REQUEST)
        shown = await wait_for(lambda: client.messages, what="showMessage")
        still = await actions(client, uri, cursor(3, 4))
    assert result["status"] == "failed" and client.edits == [] and still
    message = shown[0].message
    assert "subtask storage failed" in message and "does not match" in message
    assert "nothing was applied" in message
    total = sum(r["cost_micros"] for r in ledger_rows())
    assert f"= {output.usd(total)};" in message
    # The storage subtask escalated fast → balanced → deep; the dependent subtask never ran.
    storage_models = [r["model"] for r in ledger_rows() if r["phase"] == "execute" and r["model"] != HAIKU]
    assert storage_models == [SONNET, OPUS]
    assert not any(marker("service") in r.text for r in stub.requests)


def _work(repo: Path) -> tuple[Work, list[str]]:
    reports: list[str] = []
    return Work(
        registry.build(config.load(repo)), Context(source="lsp", repo=str(repo)), reports.append
    ), reports


def _request(repo: Path) -> refactor.RefactorRequest:
    return refactor.RefactorRequest(REQUEST, repo, "shop/storage.py", {}, config.load(repo))


def _cancelling(w: Work, reply: Reply) -> Callback:
    """The reply, after the user pressed cancel while the call was in flight (as the runner sets it)."""

    def fn(_: Recorded) -> Reply:
        w.cancel.set()
        return reply

    return Callback(fn)


@pytest.mark.parametrize(
    ("in_flight", "models"),
    [("Return the plan", [OPUS]), (marker("storage"), [OPUS, HAIKU])],
    ids=["while-planning", "between-subtasks"],
)
def test_cancel_stops_before_the_next_subtask(
    stub: StubAPI, repo: Path, in_flight: str, models: list[str]
) -> None:
    make_project(repo, verify=False)
    w, reports = _work(repo)
    replies = {
        "Return the plan": Reply(
            plan_json(
                subtask("storage", ["shop/storage.py"], []),
                subtask("service", ["shop/service.py"], ["storage"]),
            )
        ),
        marker("storage"): Reply(answer("renamed", udiff("shop/storage.py", STORAGE, NEW_STORAGE))),
        marker("service"): Reply(answer("callers", udiff("shop/service.py", SERVICE, NEW_SERVICE))),
    }
    for match, reply in replies.items():
        stub.script(_cancelling(w, reply) if match == in_flight else reply, match=match)
    with pytest.raises(Cancelled):
        refactor.compute_edit(_request(repo), w)
    assert [r.model for r in stub.requests] == models
    rows = ledger_rows()  # what was in flight is paid for, so it is recorded
    assert [(r["source"], r["phase"], r["model"]) for r in rows] == [
        ("lsp", "plan", OPUS),
        *(("lsp", "execute", m) for m in models[1:]),
    ]
    assert {r["request_id"] for r in rows} == {w.ctx.request_id}
    assert not any(m.startswith("subtask") for m in reports)  # cancelled: nothing more is reported


def test_no_valid_plan_is_an_error_and_executes_nothing(stub: StubAPI, repo: Path) -> None:
    make_project(repo, verify=False)
    script_plan(stub, "I would rename them carefully.", times=None)
    w, reports = _work(repo)
    with pytest.raises(PlanFailed, match="no valid plan after one repair attempt"):
        refactor.compute_edit(_request(repo), w)
    assert [r.model for r in stub.requests] == [OPUS, OPUS] and reports == [f"planning on deep ({OPUS})"]
