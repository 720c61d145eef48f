"""Importing msgspec for the audit without typing_extensions (audit/hiding.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run(code: str, path: Path | None = None) -> str:
    env_path = [str(path)] if path else []
    prelude = f"import sys; sys.path[:0] = {env_path!r}\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_audit_reader_loads_without_typing_extensions_and_leaves_it_importable() -> None:
    out = run(
        """
        import sys
        from codetier.audit import lines, parse
        print("typing_extensions" in sys.modules, "inspect" in sys.modules)
        block = b'{"type":"user","uuid":"u","timestamp":"2026-11-20T09:00:00Z","message":{"content":"hi"}}\\n'
        print([p.text for p in parse._block(block, 0, "f", lines.Progress(), [""], whole=True)])
        import typing_extensions
        print(typing_extensions.__name__)
        """
    )
    assert out.splitlines() == ["False False", "['hi']", "typing_extensions"]


def test_nothing_is_hidden_once_it_is_loaded() -> None:
    out = run(
        """
        import sys, typing_extensions
        from codetier.audit import parse
        print(parse.msgspec._utils._get_type_hints.__module__)
        """
    )
    assert out == "typing_extensions"


def test_a_module_that_needs_the_hidden_one_is_imported_the_usual_way(tmp_path: Path) -> None:
    """Modules that caught the failed import meanwhile are not left without it."""
    (tmp_path / "needy").mkdir()
    (tmp_path / "needy" / "__init__.py").write_text("import helper\nfrom needy import part\n")
    (tmp_path / "helper.py").write_text("try:\n    import wanted\nexcept ImportError:\n    wanted = None\n")
    (tmp_path / "needy" / "part.py").write_text("import wanted\nVALUE = wanted.VALUE\n")
    (tmp_path / "wanted.py").write_text("VALUE = 42\n")
    out = run(
        """
        import sys
        from codetier.audit.hiding import import_hiding
        import_hiding("needy", "wanted")
        needy = sys.modules["needy"]
        print(needy.part.VALUE, sys.modules["helper"].wanted is sys.modules["wanted"] is not None)
        """,
        tmp_path,
    )
    assert out == "42 True"


def test_nothing_is_hidden_while_other_threads_run() -> None:
    out = run(
        """
        import threading
        stop = threading.Event()
        threading.Thread(target=stop.wait).start()
        from codetier.audit import parse
        print(parse.msgspec._utils._get_type_hints.__module__)
        stop.set()
        """
    )
    assert out == "typing_extensions"
