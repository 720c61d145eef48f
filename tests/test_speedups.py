"""The audit's C speedups (codetier/audit/_speedups.c) themselves: built where they can
be, and safe with what the decoder never gives them. Their results are held to the
Python code they replace by every test in test_audit_parse.py, which runs with both."""

from __future__ import annotations

import shutil
import sysconfig
import tracemalloc
from pathlib import Path

import pytest
from audit_support import dump, prompt_line, usage_line


def _built() -> bool:
    from codetier.audit import decoded

    return decoded.gap is not decoded.py_gap


def test_the_c_speedups_are_built_where_there_is_a_compiler() -> None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    header = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if shutil.which(compiler) is None or not header.exists():
        pytest.skip(f"no {compiler} or no Python.h here: codetier runs the Python versions")
    assert _built(), "codetier/audit/_speedups.c was not built: reinstall (pip install -e .)"


@pytest.mark.skipif(not _built(), reason="the C speedups are not built here")
@pytest.mark.parametrize("odd", [{"message": None}, {"type": "user"}, 7], ids=["dict", "dict 2", "int"])
def test_an_object_the_decoder_never_gives_sends_the_block_the_slow_way(odd: object) -> None:
    from codetier.audit import decoded, lines

    progress = lines.Progress()
    with pytest.raises(decoded.Slow):
        decoded.entries([odd], [""], progress)  # type: ignore[list-item]
    assert (progress.repeats, progress.malformed) == (0, 0)


@pytest.mark.skipif(not _built(), reason="the C speedups are not built here")
def test_reading_a_block_again_and_again_holds_no_more_memory() -> None:
    """What each call makes is freed with its result: no reference is left behind."""
    from codetier.audit import decoded, lines, parse

    block = "".join(
        dump(line)
        for line in [
            prompt_line("fix the failing test", "2026-11-20T09:00:00Z", "p1"),
            usage_line(
                "m1", "r1", "claude-opus-5", "2026-11-20T09:00:01.123Z", 10, 20, cw=30, cw_1h=5, cr=40
            ),
            usage_line("m1", "r1", "claude-opus-5", "2026-11-20T09:00:01.123Z", 10, 20),  # a repeat
            usage_line("m2", "r2", "claude-opus-5", "yesterday", 1, 2),  # malformed
            usage_line("m3", "r3", "<synthetic>", "2026-11-20T09:00:02Z", 0, 0),
            usage_line("m4", "r4", "claude-opus-5", "2026-11-20T09:00:03+05:30", 1, 2),
        ]
    ).encode()
    decoded_lines = parse._LINES(block)

    def read(n: int) -> None:
        for _ in range(n):
            progress = lines.Progress()
            got = decoded.entries(decoded_lines, [""], progress)
            assert len(got) == 3 and (progress.repeats, progress.malformed) == (1, 1)

    read(1_000)  # caches warm
    tracemalloc.start()
    try:
        read(2_000)
        after_few = tracemalloc.get_traced_memory()[0]
        read(20_000)
        after_many = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_many - after_few < 20_000  # a leak of one object a call would be ~1 MB


@pytest.mark.skipif(not _built(), reason="the C speedups are not built here")
def test_a_configure_that_fails_keeps_what_was_there() -> None:
    """Nothing is kept from a call that fails part way: the entries are read as before."""
    from codetier.audit import _speedups, decoded, lines, parse  # type: ignore[attr-defined]

    class Plain:
        pass

    with pytest.raises(TypeError):
        _speedups.configure(Plain, Plain, Plain, Plain, Plain, tuple, tuple, None, None, None, "x", 40)
    block = dump(usage_line("m1", "r1", "claude-opus-5", "2026-11-20T09:00:00Z", 1, 2)).encode()
    got = decoded.entries(parse._LINES(block), [""], lines.Progress())
    assert [(e.key, e.input, e.output) for e in got] == [("m1:r1", 1, 2)]
