"""Added latency of the prepare-commit-msg hook (target: <= 250 ms median, excluding model time).

    /work/venv/bin/python bench/bench_hook.py [--runs 15]

Times whole `git commit` processes in a scratch repo: without a hook
(`git commit -m`), then with `codetier hooks install`'s plain hook writing
the message (`git commit`, no -m) in three settings:

  stub    the model is the local stub answering at once (the real SDK path)
  offline no key: the deterministic draft
  pre-commit  the same stub path, through the pre-commit framework

Everything runs with a private HOME, CODETIER_HOME and git config.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from stub_api import Reply, StubAPI  # noqa: E402


def run(cwd: Path, env: Mapping[str, str], *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(list(args), cwd=cwd, env=dict(env), check=True, capture_output=True)
    return (time.perf_counter() - t0) * 1000


def commits(root: Path, env: Mapping[str, str], runs: int, *flags: str) -> list[float]:
    times = []
    for i in range(runs):
        (root / "src").mkdir(exist_ok=True)
        (root / "src" / f"mod_{i}_{len(flags)}_{time.monotonic_ns()}.py").write_text(
            f"def f_{i}():\n    return {i}\n"
        )
        subprocess.run(["git", "add", "."], cwd=root, env=dict(env), check=True)
        times.append(run(root, env, "git", "commit", "-q", *flags))
    return times


def scratch(base: Path, name: str, env: dict[str, str]) -> Path:
    root = base / name
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    (root / "README.md").write_text("# bench\n")
    subprocess.run(["git", "add", "."], cwd=root, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "docs: start"], cwd=root, env=env, check=True)
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    codetier = str(Path(sys.executable).with_name("codetier"))
    pre_commit = str(Path(sys.executable).with_name("pre-commit"))
    with tempfile.TemporaryDirectory() as tmp, StubAPI() as stub:
        base = Path(tmp)
        gitconfig = base / "gitconfig"
        gitconfig.write_text("[user]\n\tname = b\n\temail = b@b\n[init]\n\tdefaultBranch = main\n")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ANTHROPIC_", "CODETIER_", "GIT_")) and not k.endswith("_API_KEY")
        }
        env |= {
            "HOME": str(base),
            "CODETIER_HOME": str(base / "codetier"),
            "PRE_COMMIT_HOME": str(base / "pre-commit"),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_EDITOR": "true",
        }
        stub.default = Reply("feat(src): add a function")
        with_key = {
            **env,
            "ANTHROPIC_API_KEY": "sk-ant-bench-0000000000",
            "ANTHROPIC_BASE_URL": stub.base_url,
        }

        plain = scratch(base, "plain", env)
        baseline = commits(plain, env, args.runs, "-m", "x")
        subprocess.run([codetier, "hooks", "install"], cwd=plain, env=env, check=True, capture_output=True)
        stub_times = commits(plain, with_key, args.runs)
        offline = commits(plain, env, args.runs)

        framework = scratch(base, "framework", env)
        entry = f"{sys.executable} -m codetier_hooks.prepare_commit_msg"
        config = {
            "repos": [
                {
                    "repo": "local",
                    "hooks": [
                        {
                            "id": "codetier-commit-msg",
                            "name": "codetier commit message",
                            "entry": entry,
                            "language": "unsupported",
                            "stages": ["prepare-commit-msg"],
                            "always_run": True,
                        }
                    ],
                }
            ]
        }
        (framework / ".pre-commit-config.yaml").write_text(json.dumps(config))  # JSON is YAML
        subprocess.run(["git", "add", "."], cwd=framework, env=env, check=True)
        subprocess.run(["git", "commit", "-q", "-m", "chore: config"], cwd=framework, env=env, check=True)
        subprocess.run(
            [pre_commit, "install", "--hook-type", "prepare-commit-msg"], cwd=framework, env=env, check=True
        )
        framework_base = commits(
            framework, env, args.runs, "-m", "x"
        )  # pre-commit runs, our hook returns at once
        framework_stub = commits(framework, with_key, args.runs)
        calls = stub.calls

    def med(xs: list[float]) -> float:
        return statistics.median(xs)

    sdk = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time;t=time.perf_counter();import anthropic;print((time.perf_counter()-t)*1000)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    base = med(baseline)

    def row(label: str, xs: list[float], added: bool = True) -> None:
        extra = f"  added {med(xs) - base:+.0f} ms" if added else ""
        print(f"{label:<42} median {med(xs):6.0f} ms{extra}")

    print(f"runs per setting: {args.runs}; stub answered {calls} calls at once")
    row("git commit -m, no hook:", baseline, added=False)
    row("plain hook, stub (SDK path):", stub_times)
    row("plain hook, offline draft (no key):", offline)
    row("pre-commit framework, hook skips (-m):", framework_base)
    row("pre-commit framework, stub:", framework_stub)
    print(f"importing the anthropic SDK alone: ~{float(sdk):.0f} ms")
    print("target: <= 250 ms added (excluding the model's own time)")


if __name__ == "__main__":
    main()
