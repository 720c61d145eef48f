from __future__ import annotations

import sys
from pathlib import Path

import pytest

from codetier import config, paths, registry
from codetier.cli import main
from codetier.errors import ConfigError


def load(root: Path, environ: dict[str, str] | None = None) -> registry.Registry:
    return registry.build(config.load(root, environ=environ or {}))


def test_precedence_and_provenance(tmp_path: Path) -> None:
    user = paths.user_config()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("[budget]\ndaily_usd = 1.0\nper_call_usd = 0.5\n")
    (tmp_path / "pyproject.toml").write_text("[tool.codetier.budget]\ndaily_usd = 2.0\n")
    (tmp_path / ".codetier.toml").write_text('[tasks.commit_message]\ntier = "balanced"\n')
    cfg = config.load(tmp_path, environ={"CODETIER_BUDGET__PER_CALL_USD": "0.25"})
    assert cfg.get("budget.daily_usd") == 2.0
    assert cfg.origin["budget.daily_usd"].endswith("pyproject.toml [tool.codetier]")
    assert cfg.get("budget.per_call_usd") == 0.25
    assert cfg.origin["budget.per_call_usd"] == "environment (CODETIER_BUDGET__PER_CALL_USD)"
    assert cfg.origin["tasks.commit_message.tier"].endswith(".codetier.toml")
    assert cfg.origin["tasks.commit_message.max_tokens"] == config.DEFAULTS
    reg = registry.build(cfg)
    assert reg.task("commit_message").tier == "balanced"


def test_flags_beat_everything(tmp_path: Path) -> None:
    (tmp_path / ".codetier.toml").write_text("[budget]\ndaily_usd = 2.0\n")
    cfg = config.load(
        tmp_path, environ={"CODETIER_BUDGET__DAILY_USD": "3"}, flags={"budget": {"daily_usd": 4}}
    )
    assert (cfg.get("budget.daily_usd"), cfg.origin["budget.daily_usd"]) == (4, "flags")


def test_a_price_row_overrides_by_model_and_date(tmp_path: Path) -> None:
    (tmp_path / ".codetier.toml").write_text(
        '[[prices]]\nmodel = "claude-sonnet-5-5"\neffective = "2026-10-07"\ninput = 2.0\noutput = 10.0\n'
        "cache_write_5m = 2.5\ncache_write_1h = 4.0\ncache_read = 0.10\n"
    )
    reg = load(tmp_path)
    import datetime as dt

    assert reg.price("claude-sonnet-5-5", dt.date(2026, 11, 1)).cache_read == 0.10
    assert reg.price("claude-sonnet-5-5", dt.date(2026, 10, 1)).cache_read == 0.20
    assert reg.price("claude-opus-5-5").input == 4.0  # other rows stay


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ("[budget\n", "(file)", "invalid TOML"),
        (
            "[tasks.comit_message]\nmax_tokens = 5\n",
            "tasks.comit_message",
            "unknown task type 'comit_message'",
        ),
        (
            '[tasks.commit_message]\ntier = "cheap"\n',
            "tasks.commit_message.tier",
            "expected one of tool, fast",
        ),
        (
            '[tasks.commit_message]\nfallbacks = ["premium"]\n',
            "tasks.commit_message.fallbacks",
            "got 'premium'",
        ),
        ("[budget]\ndaily_usd = -1\n", "budget.daily_usd", "expected a number >= 0, got -1"),
        ('[budget]\ndaily_usd = "lots"\n', "budget.daily_usd", "expected a number"),
        ('[tiers.fast]\nmodel = "claude-mystery-9"\n', "tiers.fast.model", "has no price"),
        ("[router]\nclassifier = 1\n", "router.classifier", "expected true or false"),
        ('[tasks.explain]\neffort = "extreme"\n', "tasks.explain.effort", "expected one of low"),
        # values that once slipped through or crashed
        ("[budget]\ndaily_usd = nan\n", "budget.daily_usd", "expected a finite number"),
        ("[budget]\nper_call_usd = inf\n", "budget.per_call_usd", "expected a finite number"),
        ("budget = 3\n", "budget", "expected a table"),
        ("tasks = 3\n", "tasks", "expected a table"),
        ("prices = 3\n", "prices", "expected [[prices]] rows"),
        ("[tasks.explain]\nmax_tokens = 0\n", "tasks.explain.max_tokens", "expected a whole number >= 1"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, toml: str, key: str, expected: str) -> None:
    (tmp_path / ".codetier.toml").write_text(toml)
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert str(tmp_path / ".codetier.toml") in str(info.value)
    assert info.value.key == key
    assert expected in str(info.value)


def test_config_check_exits_2_with_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".codetier.toml").write_text('[tasks.commit_message]\ntier = "cheap"\n')
    assert main(["config", "--check"]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0
    assert "Traceback" not in err
    assert (
        ".codetier.toml: tasks.commit_message.tier: expected one of tool, fast, balanced, deep, got 'cheap'"
        in err
    )


def test_bad_env_value_names_the_environment(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODETIER_BUDGET__DAILY_USD", "-5")
    with pytest.raises(ConfigError, match=r"environment \(CODETIER_BUDGET__DAILY_USD\): budget\.daily_usd"):
        registry.build(config.load(repo))


def test_config_prints_each_setting_with_its_source(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".codetier.toml").write_text("[budget]\ndaily_usd = 3.5\n")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert f"budget.daily_usd = 3.5  # {repo / '.codetier.toml'}" in out
    assert 'tasks.commit_message.tier = "fast"  # built-in defaults' in out


def test_config_check_passes_on_defaults(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--check"]) == 0
    assert "config ok" in capsys.readouterr().out


def test_no_repo_config_is_fine(tmp_path: Path) -> None:
    reg = load(tmp_path)
    assert reg.tiers["fast"].model == "claude-haiku-5-5"
    assert reg.task("commit_message").chain == ("fast", "balanced", "offline")


def test_unknown_keys_are_errors_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / ".codetier.toml").write_text("[budget]\ndaily_usdd = 3\n")
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert info.value.key == "budget.daily_usdd"
    assert "unknown key (did you mean budget.daily_usd?)" in str(info.value)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[typo_section]\na = 1\n", "typo_section"),
        ('[tasks.explain]\ntierr = "fast"\n', "tasks.explain.tierr"),
        ('[tasks.my_task]\ntier = "fast"\nmax_tokenz = 5\n', "tasks.my_task.max_tokenz"),
        ('[tiers.fast]\nmodle = "x"\n', "tiers.fast.modle"),
        ('[[prices]]\nmodel = "m"\neffective = "2026-01-01"\ninptu = 1\n', "prices.m@2026-01-01.inptu"),
    ],
)
def test_unknown_keys_anywhere_are_caught(tmp_path: Path, toml: str, key: str) -> None:
    (tmp_path / ".codetier.toml").write_text(toml)
    assert key in [e.key for e in registry.unknown(config.load(tmp_path, environ={}))]


def test_known_optional_and_named_keys_are_accepted(tmp_path: Path) -> None:
    (tmp_path / ".codetier.toml").write_text(
        "[lsp]\nfix_with_model = true\n[budget.tier_daily_usd]\ndeep = 1.0\n"
        '[tasks.my_task]\ntier = "fast"\ntriggers = ["x"]\nvariant = { fast = "explicit" }\n'
    )
    assert registry.unknown(config.load(tmp_path, environ={})) == []


def test_unknown_env_key_names_the_variable(tmp_path: Path) -> None:
    (error,) = registry.unknown(config.load(tmp_path, environ={"CODETIER_BUDGET__DAILYUSD": "3"}))
    assert str(error).startswith("environment (CODETIER_BUDGET__DAILYUSD): budget.dailyusd: unknown key")


def test_config_check_reports_every_problem(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".codetier.toml").write_text("[budget]\ndaily_usdd = 3\nper_call_usd = -1\n[typo]\nx = 1\n")
    assert main(["config", "--check"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3
    assert "budget.daily_usdd: unknown key" in err[0] and "typo: unknown key" in err[1]
    assert "budget.per_call_usd: expected a number >= 0, got -1" in err[2]


def test_non_finite_env_budget_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"CODETIER_BUDGET__DAILY_USD\): budget\.daily_usd: expected a finite"
    ):
        load(tmp_path, {"CODETIER_BUDGET__DAILY_USD": "nan"})


def test_tool_codetier_that_is_not_a_table_names_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool]\ncodetier = 3\n")
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(info.value)
    assert info.value.key == "tool.codetier"


def test_non_utf8_config_file_is_one_clear_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_bytes(b"\xff\xfe[tool.codetier]\n")
    assert main(["route", "explain the router"]) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml" in err and "UTF-8" in err
    assert err.strip().count("\n") == 0


def test_a_price_long_rate_that_is_not_a_number_names_the_key(tmp_path: Path) -> None:
    (tmp_path / ".codetier.toml").write_text(
        '[[prices]]\nmodel = "claude-haiku-5-5"\neffective = "2026-01-01"\ninput = 0.1\noutput = 0.5\n'
        'cache_write_5m = 0.1\ncache_write_1h = 0.2\ncache_read = 0.01\nlong_threshold = 100\nlong_input = "x"\n'
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert info.value.key.endswith("long_input")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="elsewhere platformdirs itself is used")
@pytest.mark.parametrize(
    "env",
    [
        {},
        {"XDG_CONFIG_HOME": "", "XDG_DATA_HOME": "  "},
        {"XDG_CONFIG_HOME": "/x/conf", "XDG_DATA_HOME": "/x/data"},
        {"XDG_CONFIG_HOME": "~/conf", "XDG_DATA_HOME": "relative/data"},  # not absolute: ignored
        {"XDG_DATA_HOME": " /x/data "},
        {"HOME": ""},  # platformdirs falls back to the passwd entry
        {"HOME": "relative-home"},
    ],
)
def test_linux_dirs_are_the_ones_platformdirs_gives(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.delenv("CODETIER_HOME", raising=False)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert (
        paths.user_config() == Path(platformdirs.user_config_dir("codetier", appauthor=False)) / "config.toml"
    )
    assert paths.home() == Path(platformdirs.user_data_dir("codetier", appauthor=False))


def test_a_codetier_variable_that_is_no_setting_is_an_error_not_ignored(tmp_path: Path) -> None:
    """CODETIER_MAX_RETRIES=0 used to be dropped without a word (settings need a section):
    it is named, with the setting it probably meant, like an unknown key in a file."""
    with pytest.raises(ConfigError, match=r"environment: CODETIER_MAX_RETRIES: not a codetier setting") as e:
        load(tmp_path, {"CODETIER_MAX_RETRIES": "0"})
    assert "did you mean CODETIER_ANTHROPIC__MAX_RETRIES or CODETIER_HOOKS__MAX_RETRIES?" in str(e.value)
    with pytest.raises(ConfigError, match=r"a table: e\.g\. CODETIER_BUDGET__"):
        load(tmp_path, {"CODETIER_BUDGET": "3"})
    with pytest.raises(ConfigError) as e:
        load(tmp_path, {"CODETIER_NOTHING_LIKE_IT": "1"})
    assert "did you mean" not in str(e.value)
    # The variables codetier reads that are not settings, and settings themselves, are fine.
    env = {"CODETIER_HOME": str(tmp_path), "CODETIER_SKIP": "1", "CODETIER_ANTHROPIC__MAX_RETRIES": "0"}
    assert load(tmp_path, env).max_retries == 0
