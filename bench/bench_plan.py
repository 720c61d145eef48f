"""plan → execute figures, against the local stub of the API.

1. Parallelism: wall time of one level of N subtasks whose model replies each
   take D seconds, with plan.parallel = 1 and = N (ideal speed-up: N).
2. Price: plan + execution against the same tokens all on the deep model, for
   a scripted plan whose token counts are set in the stub (illustrative).
3. Repo map: time to map this repository (ast on every Python file).

Run: python bench/bench_plan.py [--subtasks N] [--delay D]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from plan_support import HAIKU, OPUS, REQUEST, answer, plan_json, subtask, udiff  # noqa: E402
from stub_api import Reply, StubAPI  # noqa: E402


def project(root: Path, n: int) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    for i in range(n):
        (root / f"mod{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True)


def script(stub: StubAPI, n: int, delay: float) -> None:
    subtasks = [subtask(f"m{i}", [f"mod{i}.py"], []) for i in range(n)]
    stub.script(Reply(plan_json(*subtasks), input_tokens=8000, output_tokens=1500), model=OPUS)
    for i in range(n):
        before = f"def f{i}():\n    return {i}\n"
        diff = udiff(f"mod{i}.py", before, before.replace("return", "return 1 +"))
        reply = Reply(answer("ok", diff), input_tokens=2500, output_tokens=400, delay=delay)
        stub.script(reply, model=HAIKU, match=f"executing subtask 'm{i}'")


def run_once(n: int, delay: float, parallel: int) -> tuple[float, dict[str, object]]:
    from codetier.cli import main

    with tempfile.TemporaryDirectory() as tmp, StubAPI() as stub:
        root = Path(tmp) / "repo"
        root.mkdir()
        env = {
            "CODETIER_HOME": str(Path(tmp) / "home"),
            "ANTHROPIC_API_KEY": "sk-ant-bench",
            "ANTHROPIC_BASE_URL": stub.base_url,
            "CODETIER_PLAN__PARALLEL": str(parallel),
            "GIT_CONFIG_GLOBAL": str(Path(tmp) / "gitconfig"),
        }
        Path(env["GIT_CONFIG_GLOBAL"]).write_text("[user]\n\tname = b\n\temail = b@example.com\n")
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        cwd = os.getcwd()
        try:
            project(root, n)
            os.chdir(root)
            script(stub, n, delay)
            out_path = Path(tmp) / "out.json"
            t0 = time.perf_counter()
            with out_path.open("w") as out:
                real, sys.stdout = sys.stdout, out
                try:
                    code = main(["ask", REQUEST, "--json"])
                finally:
                    sys.stdout = real
            elapsed = time.perf_counter() - t0
            if code != 0:
                raise SystemExit(f"codetier ask exited {code}")
            return elapsed, json.loads(out_path.read_text())["split"]
        finally:
            os.chdir(cwd)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subtasks", type=int, default=4)
    ap.add_argument("--delay", type=float, default=0.5)
    args = ap.parse_args()
    n, d = args.subtasks, args.delay
    run_once(n, 0.0, n)  # warm-up: imports (the SDK alone is ~1.2 s) must not count
    serial, _ = run_once(n, d, 1)
    parallel, split = run_once(n, d, n)
    print(f"one level of {n} subtasks, each reply {d:.2f} s:")
    print(
        f"  plan.parallel=1: {serial:.2f} s   plan.parallel={n}: {parallel:.2f} s"
        f"   speed-up {serial / parallel:.1f}x"
    )
    cost, cf = int(split["cost_micros"]), int(split["counterfactual_micros"])  # type: ignore[call-overload]
    plan_cost = int(split["plan"]["cost_micros"])  # type: ignore[index]
    print(
        f"price: plan ${plan_cost / 1e6:.4f} + execution ${(cost - plan_cost) / 1e6:.4f} = ${cost / 1e6:.4f};"
        f" all on the deep model ${cf / 1e6:.4f} ({100 * (cf - cost) / cf:.0f}% saved)"
    )
    from codetier.plan import repomap

    t0 = time.perf_counter()
    rmap = repomap.build(ROOT, "refactor the ledger across modules", budget=6000)
    ms = (time.perf_counter() - t0) * 1000
    print(f"repo map of this repository: {len(rmap.entries)} files in {ms:.0f} ms")


if __name__ == "__main__":
    main()
