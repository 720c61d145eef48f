"""`codetier ask` end to end: the real SDK over HTTP to the local stub."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import git
from stub_api import Fault, Hang, Malformed, Reply, StubAPI

from codetier import paths
from codetier.cli import main

KEY = "sk-ant-test-0123456789abcdef"


def rows() -> list[dict[str, Any]]:
    db = sqlite3.connect(paths.ledger_path())
    db.row_factory = sqlite3.Row
    out = [dict(r) for r in db.execute("SELECT * FROM attempts ORDER BY id")]
    db.close()
    return out


def test_no_key_model_task_exits_2_with_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "explain how the router works"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "ANTHROPIC_API_KEY" in err
    assert "Traceback" not in err


def test_no_key_format_runs_ruff_format_only(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app.py").write_text("import os\nx=1\n")
    assert main(["ask", "format app.py"]) == 0
    assert (repo / "app.py").read_text() == "import os\n\nx = 1\n"  # formatting never removes code
    assert "reformatted app.py" in capsys.readouterr().out
    (row,) = rows()
    assert (row["tier"], row["provider"], row["outcome"], row["cost_micros"]) == ("tool", "tool", "ok", 0)
    assert row["counterfactual_micros"] > 0  # what the deep model would have cost


@pytest.mark.parametrize(
    "text", ["fix the lint in app.py", "sort imports in app.py", "remove unused imports from app.py"]
)
def test_lint_requests_also_apply_ruffs_fixes(
    repo: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    (repo / "app.py").write_text("import os\nx=1\n")
    assert main(["ask", text]) == 0
    assert (repo / "app.py").read_text() == "x = 1\n"


def test_format_of_a_missing_file_names_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "format nothere.py"]) == 2
    assert "codetier: no such file: nothere.py" in capsys.readouterr().err


def test_no_key_rename_runs_rope_across_modules(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pkg").mkdir()
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "cli.py").write_text("def parse_args(argv):\n    return argv\n")
    (repo / "main.py").write_text("from pkg.cli import parse_args\n\nprint(parse_args([]))\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")  # a rename refuses files with uncommitted changes
    assert main(["ask", "rename parse_args to parse_cli"]) == 0
    assert "def parse_cli(argv)" in (repo / "pkg" / "cli.py").read_text()
    assert (repo / "main.py").read_text() == "from pkg.cli import parse_cli\n\nprint(parse_cli([]))\n"
    assert not (repo / ".ropeproject").exists()


def test_rename_of_unknown_symbol_fails_cleanly(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.py").write_text("x = 1\n")
    assert main(["ask", "rename nothing_here to something"]) == 1
    err = capsys.readouterr().err
    assert "no definition of 'nothing_here'" in err
    assert (repo / "a.py").read_text() == "x = 1\n"


def test_answer_is_printed_and_recorded(
    stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.script(Reply("It routes.", input_tokens=1000, output_tokens=200), model="claude-sonnet-5-5")
    assert main(["ask", "explain how the router works"]) == 0
    out = capsys.readouterr()
    assert out.out == "It routes.\n"
    assert "explain · balanced:claude-sonnet-5-5" in out.err
    (row,) = rows()
    assert (row["task"], row["tier"], row["model"], row["outcome"]) == (
        "explain",
        "balanced",
        "claude-sonnet-5-5",
        "ok",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (1000, 200)
    assert row["cost_micros"] == 1000 * 2 + 200 * 10
    assert row["counterfactual_micros"] == 1000 * 4 + 200 * 20
    assert row["source"] == "cli" and row["provider_request_id"].startswith("req_stub_")


def test_request_never_sends_sampling_parameters(stub: StubAPI, repo: Path) -> None:
    assert main(["ask", "explain how the router works"]) == 0
    body = stub.requests[0].body
    assert not {"temperature", "top_p", "top_k"} & set(body)
    assert body["output_config"] == {"effort": "medium"}
    assert body["max_tokens"] == 4000
    assert body["system"]


def test_529_escalates_and_both_attempts_are_recorded(stub: StubAPI, repo: Path) -> None:
    stub.script(Fault(529), model="claude-sonnet-5-5", times=None)
    stub.script(Reply("from opus"), model="claude-opus-5-5")
    assert main(["ask", "explain how the router works"]) == 0
    assert stub.texts_for("claude-sonnet-5-5").__len__() == 3  # the SDK's own two retries first
    first, second = rows()
    assert (first["outcome"], first["model"], first["attempt"]) == ("provider_error", "claude-sonnet-5-5", 1)
    assert "overloaded" in first["reason"]
    assert (second["outcome"], second["model"], second["attempt"]) == ("ok", "claude-opus-5-5", 2)
    assert first["request_id"] == second["request_id"]


@pytest.mark.parametrize("fault", [Fault(429), Fault(500), Malformed(), Malformed(b'{"type": "nope"}')])
def test_provider_faults_escalate(stub: StubAPI, repo: Path, fault: Any) -> None:
    stub.script(fault, model="claude-sonnet-5-5", times=None)
    stub.script(Reply("from opus"), model="claude-opus-5-5")
    assert main(["ask", "explain how the router works"]) == 0
    assert [r["outcome"] for r in rows()] == ["provider_error", "ok"]


def test_timeout_escalates(stub: StubAPI, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETIER_ANTHROPIC__TIMEOUT_S", "0.3")
    monkeypatch.setenv("CODETIER_ANTHROPIC__MAX_RETRIES", "0")
    stub.script(Hang(20), model="claude-sonnet-5-5")
    stub.script(Reply("late but fine"), model="claude-opus-5-5")
    assert main(["ask", "explain how the router works"]) == 0
    first, _ = rows()
    assert "timed out" in first["reason"]


def test_failed_check_escalates_with_the_reason(stub: StubAPI, repo: Path) -> None:
    stub.script(Reply("half an answ", stop_reason="max_tokens"), model="claude-sonnet-5-5")
    stub.script(Reply("a whole answer"), model="claude-opus-5-5")
    assert main(["ask", "explain how the router works"]) == 0
    assert "cut off at max_tokens" not in stub.texts_for("claude-sonnet-5-5")[0]
    assert "cut off at max_tokens" in stub.texts_for("claude-opus-5-5")[0]
    assert [(r["outcome"], r["reason"]) for r in rows()] == [
        ("check_failed", "the answer was cut off at max_tokens"),
        ("ok", None),
    ]


def test_every_link_failing_exits_1_with_a_line_per_attempt(
    stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.script(Fault(500), times=None)
    assert main(["ask", "explain how the router works"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "codetier: every attempt failed:"
    assert err[1].startswith("  balanced (claude-sonnet-5-5): provider error:")
    assert err[2].startswith("  deep (claude-opus-5-5): provider error:")
    assert len(err) == 3
    assert [r["outcome"] for r in rows()] == ["provider_error", "provider_error"]


def test_budget_refusal_names_budget_limit_and_estimate(
    stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".codetier.toml").write_text("[budget]\nper_call_usd = 0.0001\n")
    assert main(["ask", "explain how the router works"]) == 1
    err = capsys.readouterr().err
    assert "per-call budget $0.0001 would be exceeded: estimate $0.04" in err
    assert stub.calls == 0
    assert {r["outcome"] for r in rows()} == {"budget_refused"}


def test_daily_budget_counts_todays_spend(
    stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".codetier.toml").write_text('[budget]\ndaily_usd = 0.05\nmode = "stop"\n')
    stub.script(Reply("one", input_tokens=1000, output_tokens=4000), model="claude-sonnet-5-5")
    assert main(["ask", "explain how the router works"]) == 0  # spends $0.042
    assert main(["ask", "explain how the router works"]) == 1
    assert "daily budget $0.0500 would be exceeded" in capsys.readouterr().err


def test_dry_run_calls_nothing(stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "explain how the router works", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "task:   explain" in out
    assert "estimate: $" in out
    assert stub.calls == 0
    assert not paths.ledger_path().exists() or rows() == []


def test_dry_run_json_gives_a_range(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "design a plugin architecture", "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    low, high = data["estimate_micros"]
    assert data["tier"] == "deep"
    assert 0 < low < high
    assert high == data["context_tokens"] * 4 + 16_000 * 20
    assert data["estimate_note"] == "the plan call only; its subtasks then run on cheaper tiers"


def test_files_are_sent_as_context(stub: StubAPI, repo: Path) -> None:
    (repo / "mod.py").write_text("def answer():\n    return 42\n")
    assert main(["ask", "explain this", "--file", "mod.py"]) == 0
    assert "return 42" in stub.requests[0].text


def test_tier_and_model_flags(stub: StubAPI, repo: Path) -> None:
    assert main(["ask", "explain it", "--tier", "fast"]) == 0
    assert main(["ask", "explain it", "--model", "claude-opus-5-5"]) == 0
    assert [r.model for r in stub.requests] == ["claude-haiku-5-5", "claude-opus-5-5"]


def test_ambiguous_text_is_classified_by_the_fast_tier(stub: StubAPI, repo: Path) -> None:
    stub.script(Reply("code_review"), model="claude-haiku-5-5")
    stub.script(Reply("looks fine"), model="claude-sonnet-5-5")
    assert main(["ask", "have a look at my stuff"]) == 0
    assert [(r["task"], r["tier"]) for r in rows()] == [("classify", "fast"), ("code_review", "balanced")]


def test_key_never_appears_in_ledger_or_errors(
    stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.script(Fault(401, message=f"invalid x-api-key {KEY}"), times=None)
    assert main(["ask", f"explain why {KEY} fails"]) == 1
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err
    for path in paths.home().iterdir():
        assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in stub.requests[0].text  # redacted from the prompt too


def test_secrets_in_files_never_reach_the_model(stub: StubAPI, repo: Path) -> None:
    (repo / "settings.py").write_text('AWS_KEY = "AKIAABCDEFGHIJKLMNOP"\nPASSWORD = "hunter2-Xq9#Lm0z"\n')
    assert main(["ask", "explain this", "--file", "settings.py"]) == 0
    sent = stub.requests[0].text
    assert "AKIAABCDEFGHIJKLMNOP" not in sent and "hunter2-Xq9#Lm0z" not in sent
    assert "[REDACTED:aws_access_key]" in sent
    assert rows()[0]["redacted"] == 1


def test_rejected_key_does_not_escalate_to_other_models(
    stub: StubAPI, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.script(Fault(401, message="invalid x-api-key"), times=None)
    assert main(["ask", "explain how the router works"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert (
        err[1]
        == "  balanced (claude-sonnet-5-5): provider error: the API key was rejected (401): invalid x-api-key"
    )
    assert len(err) == 2
    assert stub.calls == 1
    assert [r["outcome"] for r in rows()] == ["provider_error"]


def test_unreachable_api_names_the_url(dead_api: str, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "explain how the router works"]) == 1
    err = capsys.readouterr().err
    assert f"could not connect to the API: no answer from {dead_api}/v1/messages" in err
    assert "Traceback" not in err


def test_no_key_refusal_does_not_import_the_sdk(repo: Path) -> None:
    import subprocess
    import sys

    code = "import sys; from codetier.cli import main; main(['ask', 'explain it']); print('anthropic' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
    assert "the explain task needs a model: set ANTHROPIC_API_KEY" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tier", "deep", "--model", "claude-opus-5-5"], "give --tier or --model, not both"),
        (["--tier", "tool"], "--tier tool: task explain has no deterministic tool"),
        (["--model", "gpt-4"], "--model gpt-4: unknown model (no price in the registry); known: claude-"),
    ],
)
def test_conflicting_or_unknown_flags_are_usage_errors(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["ask", "explain how the router works", "--dry-run", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
