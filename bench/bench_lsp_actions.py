"""How fast is the code-action list? Target: p95 <= 20 ms for a 3,000-line file.

Starts `python -m codetier lsp` over stdio with a real pygls client, opens a
generated 3,000-line module and asks for code actions at many cursors and
selections, timing each round trip. Also times the in-process computation.
Run: /work/venv/bin/python bench/bench_lsp_actions.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient


def module(lines: int) -> str:
    out = ['"""A generated module for the benchmark."""', "", "import os", ""]
    n = 0
    while len(out) < lines:
        n += 1
        if n % 5 == 0:
            out += [f"class Thing{n}:", f'    """Thing number {n}."""', ""]
            out += [
                f"    def method_{n}(self, value):",
                "        if value:",
                "            return value * 2",
                "",
            ]
            out += ["        return os.sep", "", ""]
        else:
            out += [f"def func_{n}(a, b, c=None):", f"    total = a + b + {n}", "    for i in range(3):"]
            out += [
                "        total += i",
                "    if c is not None:",
                "        total -= c",
                "    return total",
                "",
                "",
            ]
    return "\n".join(out[:lines]) + "\n"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ranges(lines: int, count: int) -> list[types.Range]:
    rnd = random.Random(4)
    out = []
    for i in range(count):
        line = rnd.randrange(lines)
        if i % 3 == 0:  # a selection of a few lines
            end = min(lines - 1, line + rnd.randrange(1, 30))
            out.append(types.Range(types.Position(line, 0), types.Position(end, 0)))
        else:
            out.append(types.Range(types.Position(line, 0), types.Position(line, 0)))
    return out


async def over_stdio(root: Path, text: str, count: int) -> tuple[float, list[float]]:
    client = LanguageClient("bench", "1")
    env = {**os.environ, "CODETIER_HOME": str(root / ".codetier-home")}
    await client.start_io(sys.executable, "-m", "codetier", "lsp", env=env)
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
    )
    client.initialized(types.InitializedParams())
    uri = (root / "big.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    context = types.CodeActionContext(diagnostics=[])
    ident = types.TextDocumentIdentifier(uri)
    t0 = time.perf_counter()
    first = await client.text_document_code_action_async(
        types.CodeActionParams(ident, ranges(3000, 1)[0], context)
    )
    cold = (time.perf_counter() - t0) * 1000
    assert first, "no actions"
    times = []
    for rng in ranges(len(text.splitlines()), count):
        t0 = time.perf_counter()
        await client.text_document_code_action_async(types.CodeActionParams(ident, rng, context))
        times.append((time.perf_counter() - t0) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return cold, times


def in_process(text: str, count: int) -> list[float]:
    from codetier_lsp import actions

    from codetier import config, registry

    reg = registry.build(config.load(Path(tempfile.gettempdir())))
    times = []
    for rng in ranges(len(text.splitlines()), count):
        t0 = time.perf_counter()
        lines = text.splitlines()
        view = actions.view_of(text, lines, rng.start.line, rng.end.line, rng.start == rng.end)
        actions.titled(view, reg, False, None)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def report(name: str, times: list[float]) -> None:
    print(
        f"{name}: n={len(times)} p50={statistics.median(times):.2f} ms "
        f"p95={percentile(times, 95):.2f} ms max={max(times):.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--lines", type=int, default=3000)
    args = parser.parse_args()
    text = module(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / "big.py").write_text(text)
        cold, times = asyncio.run(over_stdio(root, text, args.requests))
    print(f"file: {len(text.splitlines())} lines, {len(text):,} bytes")
    print(f"first request (loads config and registry): {cold:.1f} ms")
    report("codeAction round trip over stdio", times)
    report("action list computed in process", in_process(text, args.requests))
    p95 = percentile(times, 95)
    print(f"target p95 <= 20 ms: {'met' if p95 <= 20 else 'MISSED'} ({p95:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
