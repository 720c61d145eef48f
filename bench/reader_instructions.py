"""Instructions one audit Reader spends on the first N transcripts: a figure that holds
still on a shared machine, where CPU seconds drift by half within the hour.

    python bench/reader_instructions.py /tmp/tr500v2base --files 80

Runs this script twice under `valgrind --tool=callgrind` (Debian's valgrind), once
reading the files and once stopping just before, and prints the difference. Two runs
of the same build agree within ~0.3%. Compare builds with it, not with seconds; it
counts one process, so the readers' split over cores is not in it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path


def _files(root: Path, n: int) -> list[tuple[str, int]]:
    from codetier.audit import discover

    return [(p, size) for p, _, size in discover.stats([root]) if size > 0][:n]


def _inner(root: Path, n: int, read: bool) -> None:
    import gc

    from codetier.audit.changes import FileJob
    from codetier.audit.reader import Reader
    from codetier.cli.common import load

    gc.disable()  # as the readers run (see workers._no_gc)
    files = [p for p, _ in _files(root, n)]
    reader = Reader(load()[1])
    if read:
        for path in files:
            reader(FileJob(path, 0, 0, None, None))


def _count(root: Path, n: int, read: bool) -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
           "--inner", "read" if read else "none", str(root), "--files", str(n)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no count from callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path, help="a tree of transcripts (bench/gen_transcripts.py)")
    ap.add_argument("--files", type=int, default=80)
    ap.add_argument("--inner", choices=["read", "none"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:
        _inner(a.dir, a.files, a.inner == "read")
        return 0
    size = sum(size for _, size in _files(a.dir, a.files))
    spent = _count(a.dir, a.files, True) - _count(a.dir, a.files, False)
    print(f"a Reader over {a.files} files (~{size / 1e6:.0f} MB): {spent / 1e6:.0f} M instructions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
