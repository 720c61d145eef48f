"""plan → execute end to end: the real SDK over HTTP to the stub, a real git
repo, the project's own tests run by the verify_command in a worktree."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import git
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

from codetier import ledger
from codetier.cli import main
from codetier.plan.accounting import request_split


def _ledger_rows() -> list[dict[str, object]]:
    db = ledger.connect()
    db.row_factory = lambda cur, row: {d[0]: v for d, v in zip(cur.description, row, strict=True)}
    try:
        return list(db.execute("SELECT * FROM attempts ORDER BY id"))
    finally:
        db.close()


def test_happy_path_applies_and_project_tests_pass(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo)
    script_happy(stub)

    code = main(["ask", REQUEST, "--apply"])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert (repo / "shop/storage.py").read_text() == NEW_STORAGE
    assert (repo / "shop/service.py").read_text() == NEW_SERVICE
    assert (repo / "docs/storage.md").read_text() == NOTES
    assert "+def put_item(db, key, value):" in out
    assert "cost per subtask" in out and "service" in out
    assert "applied to 3 file(s)" in err
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The dependent subtask saw its dependency's result in a structured handoff.
    service_prompt = next(t for t in stub.texts_for(SONNET) if marker("service") in t)
    assert '"id": "storage"' in service_prompt and "+def put_item" in service_prompt
    # No stray worktree is left registered.
    assert git(repo, "worktree", "list").count("\n") == 1


def test_plan_and_subtasks_share_one_request_id_and_split_by_phase(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo)
    script_happy(stub)

    assert main(["ask", REQUEST, "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    rows = _ledger_rows()
    assert {r["request_id"] for r in rows} == {report["request_id"]}
    assert [(r["phase"], r["model"]) for r in rows if r["phase"] == "plan"] == [("plan", OPUS)]
    assert sorted(r["model"] for r in rows if r["phase"] == "execute") == [HAIKU, HAIKU, SONNET]
    db = ledger.connect()
    try:
        split = request_split(db, report["request_id"])
    finally:
        db.close()
    assert split.plan.cost_micros == sum(r["cost_micros"] for r in rows if r["phase"] == "plan")
    assert split.execute.calls == 3
    assert split.cost_micros == sum(r["cost_micros"] for r in rows)
    assert split.counterfactual_micros > split.cost_micros  # cheaper tiers did the execution
    assert report["split"]["cost_micros"] == split.cost_micros
    by_id = {s["id"]: s for s in report["subtasks"]}
    assert by_id["service"]["model"] == SONNET and by_id["storage"]["model"] == HAIKU
    assert sum(s["cost_micros"] for s in report["subtasks"]) == split.execute.cost_micros
    # `codetier spend --request` shows the same split.
    assert main(["spend", "--request", report["request_id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == split.as_dict()
    assert main(["spend", "--request", report["request_id"]]) == 0
    table = capsys.readouterr().out
    assert "plan" in table and "execute" in table and "saved $" in table
    assert main(["spend", "--request", "ct_nothing"]) == 2
    # Without --apply nothing is written; the checked diff is kept for later.
    assert (repo / "shop/storage.py").read_text() == STORAGE
    saved = Path(report["saved_diff"])
    git(repo, "apply", "--check", str(saved))


def test_cyclic_plan_is_rejected_after_one_repair(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo)
    before = snapshot(repo)
    cyclic = plan_json(
        subtask("a", ["shop/storage.py"], ["c"]),
        subtask("b", ["shop/service.py"], ["a"]),
        subtask("c", ["shop/report.py"], ["b"]),
    )
    script_plan(stub, cyclic, times=None)

    code = main(["ask", REQUEST, "--apply"])

    err = capsys.readouterr().err
    assert code == 1
    assert "no valid plan after one repair attempt" in err
    assert "dependency cycle: a → c → b → a" in err
    assert "plan $" in err  # what the failed planning cost is still shown
    assert stub.calls == 2  # the plan and one repair; no subtask ran
    repair = stub.texts_for(OPUS)[1]
    assert "Your previous plan" in repair and "dependency cycle" in repair
    assert snapshot(repo) == before


def test_repair_attempt_can_fix_the_plan(repo: Path, stub: StubAPI) -> None:
    make_project(repo)
    script_plan(stub, plan_json(subtask("storage", ["shop/missing.py"], [])))
    script_happy(stub)

    assert main(["ask", REQUEST, "--apply"]) == 0

    assert "shop/missing.py does not exist" in stub.texts_for(OPUS)[1]
    assert (repo / "shop/storage.py").read_text() == NEW_STORAGE


def test_subtask_diff_that_does_not_apply_escalates_that_subtask_alone(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo)
    plan = plan_json(
        subtask("storage", ["shop/storage.py"], []),
        subtask("service", ["shop/service.py"], ["storage"]),
    )
    script_plan(stub, plan)
    stub.script(
        Reply(answer("ok", udiff("shop/storage.py", STORAGE, NEW_STORAGE))),
        model=HAIKU,
        match=marker("storage"),
    )
    stale = SERVICE.replace("on top of storage", "over the storage module")
    bad = udiff("shop/service.py", stale, NEW_SERVICE)
    stub.script(Reply(answer("bad", bad)), model=HAIKU, match=marker("service"))
    stub.script(
        Reply(answer("good", udiff("shop/service.py", SERVICE, NEW_SERVICE))),
        model=SONNET,
        match=marker("service"),
    )

    code = main(["ask", REQUEST, "--apply", "--json"])

    assert code == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    by_id = {s["id"]: s for s in report["subtasks"]}
    assert (by_id["storage"]["model"], by_id["storage"]["attempts"]) == (HAIKU, 1)
    assert (by_id["service"]["model"], by_id["service"]["attempts"]) == (SONNET, 2)
    escalated = next(t for t in stub.texts_for(SONNET) if marker("service") in t)
    assert "does not match the current content" in escalated
    failed = [r for r in _ledger_rows() if r["outcome"] == "check_failed"]
    assert [(r["model"], r["phase"]) for r in failed] == [(HAIKU, "execute")]
    assert (repo / "shop/service.py").read_text() == NEW_SERVICE


def test_failing_verify_command_leaves_the_tree_untouched(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo)
    before = snapshot(repo)
    script_plan(stub, plan_json(subtask("storage", ["shop/storage.py"], [])))
    broken = STORAGE.replace("return db[key]", "return None")
    stub.script(
        Reply(answer("oops", udiff("shop/storage.py", STORAGE, broken))), model=HAIKU, match=marker("storage")
    )

    code = main(["ask", REQUEST, "--apply"])

    err = capsys.readouterr().err
    assert code == 1
    assert "failed verify_command" in err and "nothing was applied" in err
    assert "1 failed" in err  # the tail of the project's pytest output
    assert snapshot(repo) == before
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 1


def test_subtasks_of_one_level_run_in_parallel(
    repo: Path, stub: StubAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODETIER_ANTHROPIC__MAX_RETRIES", "0")
    make_project(repo, verify=False)
    script_plan(stub, HAPPY_PLAN)
    barrier = threading.Barrier(2, timeout=20)
    replies = {
        "storage": answer("renamed", udiff("shop/storage.py", STORAGE, NEW_STORAGE)),
        "notes": answer("notes", udiff("docs/storage.md", None, NOTES)),
    }

    def both_at_once(sid: str) -> Callback:
        def reply(rec: Recorded) -> Reply:
            barrier.wait()  # returns only when the other level-0 subtask is in flight too
            return Reply(replies[sid])

        return Callback(reply)

    for sid in replies:
        stub.script(both_at_once(sid), model=HAIKU, match=marker(sid))
    stub.script(
        Reply(answer("callers", udiff("shop/service.py", SERVICE, NEW_SERVICE))),
        model=SONNET,
        match=marker("service"),
    )

    assert main(["ask", REQUEST, "--apply"]) == 0

    level0 = [r for r in stub.requests if r.model == HAIKU]
    a, b = level0
    assert a.started < b.ended and b.started < a.ended  # the two requests overlapped
    service = next(r for r in stub.requests if r.model == SONNET)
    assert service.started >= max(a.ended, b.ended) - 0.05  # the next level waited for both


def test_uncommitted_changes_are_not_overwritten_without_force(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo, verify=False)
    dirty = STORAGE + "\n\n# work in progress\n"
    (repo / "shop/storage.py").write_text(dirty)
    plan = plan_json(subtask("storage", ["shop/storage.py"], []))
    renamed = dirty.replace("def save", "def put_item")
    for _ in range(2):
        script_plan(stub, plan)
        stub.script(
            Reply(answer("ok", udiff("shop/storage.py", dirty, renamed))),
            model=HAIKU,
            match=marker("storage"),
        )

    assert main(["ask", REQUEST, "--apply"]) == 1
    err = capsys.readouterr().err
    assert "uncommitted changes in shop/storage.py" in err and "--force" in err
    assert "nothing was executed" in err and stub.calls == 1  # refused before paying for subtasks
    assert (repo / "shop/storage.py").read_text() == dirty

    assert main(["ask", REQUEST, "--apply", "--force"]) == 0
    assert (repo / "shop/storage.py").read_text() == renamed
    assert main(["undo"]) == 0
    assert (repo / "shop/storage.py").read_text() == dirty


def test_undo_restores_the_exact_previous_bytes(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo, verify=False)
    before = snapshot(repo)
    script_happy(stub)
    assert main(["ask", REQUEST, "--apply"]) == 0
    assert snapshot(repo) != before

    assert main(["undo"]) == 0

    assert snapshot(repo) == before
    assert not (repo / "docs").exists()  # the directory the change created is gone too
    assert git(repo, "status", "--porcelain") == ""
    assert "restored 3 file(s)" in capsys.readouterr().out
    assert main(["undo"]) == 1
    assert "nothing to undo" in capsys.readouterr().err


def test_undo_refuses_files_edited_since_unless_forced(
    repo: Path, stub: StubAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo, verify=False)
    script_happy(stub)
    assert main(["ask", REQUEST, "--apply"]) == 0
    (repo / "shop/storage.py").write_text(NEW_STORAGE + "# mine\n")

    assert main(["undo"]) == 1
    assert "edited since the plan was applied: shop/storage.py" in capsys.readouterr().err
    assert main(["undo", "--force"]) == 0
    assert (repo / "shop/storage.py").read_text() == STORAGE


def test_without_a_key_planned_task_says_so_in_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(repo, verify=False)

    code = main(["ask", REQUEST])

    err = capsys.readouterr().err
    assert code == 2
    assert "ANTHROPIC_API_KEY" in err and "Traceback" not in err


def test_an_editors_unsaved_buffers_stand_in_for_the_disk(repo: Path, stub: StubAPI) -> None:
    from codetier import config, engine, registry, router
    from codetier.plan import pipeline

    make_project(repo, verify=False)
    unsaved = STORAGE.replace('"""Key-value storage."""', '"""Key-value storage (edited in the editor)."""')
    script_plan(stub, plan_json(subtask("storage", ["shop/storage.py"], [])))
    renamed = unsaved.replace("def save", "def put_item")
    stub.script(
        Reply(answer("ok", udiff("shop/storage.py", unsaved, renamed))), model=HAIKU, match=marker("storage")
    )
    cfg = config.load(repo)
    reg = registry.build(cfg)
    route = router.route(REQUEST, reg)

    done = pipeline.run(
        REQUEST, repo, route, reg, cfg, engine.Context(source="lsp"), buffers={"shop/storage.py": unsaved}
    )

    assert done.ok, done.error
    assert done.edits["shop/storage.py"].before == unsaved
    assert done.edits["shop/storage.py"].after == renamed
    assert (repo / "shop/storage.py").read_text() == STORAGE  # the server applies edits, not the pipeline


def test_installed_command_applies_and_undoes(repo: Path, stub: StubAPI) -> None:
    make_project(repo, verify=False)
    before = snapshot(repo)
    script_happy(stub)
    exe = str(Path(sys.executable).parent / "codetier")

    ask = subprocess.run(
        [exe, "ask", REQUEST, "--apply"], cwd=repo, capture_output=True, text=True, check=False
    )

    assert ask.returncode == 0, ask.stderr
    assert "applied to 3 file(s)" in ask.stderr and "+def put_item" in ask.stdout
    listed = subprocess.run([exe, "undo", "--list"], cwd=repo, capture_output=True, text=True, check=True)
    assert "applied" in listed.stdout and "shop/service.py" in listed.stdout
    undo = subprocess.run([exe, "undo"], cwd=repo, capture_output=True, text=True, check=False)
    assert undo.returncode == 0, undo.stderr
    assert snapshot(repo) == before
