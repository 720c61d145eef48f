"""All printing goes through here so every output is capturable in tests."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing costs ~3 ms to import: only the type checker needs it here
if TYPE_CHECKING:
    from typing import Any


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


def emit_json(data: Any) -> None:
    sys.stdout.write(json_text(data) + "\n")


def json_text(data: Any) -> str:
    """Indented JSON with sorted keys, as json.dumps(indent=2, sort_keys=True,
    default=str) writes it. Where msgspec is loaded already (the audit parses with it),
    it encodes in C: json's indent is pure Python, ~18 ms for an audit report, but
    importing msgspec only to print a small answer would cost more (~12 ms). Text that
    is not plain ASCII goes through json, which escapes it so that any stdout encoding
    can print it. Differences left: datetimes come out as ISO 8601, sets as arrays."""
    text: str | None = None
    msgspec = sys.modules.get("msgspec")
    if msgspec is not None:
        try:
            text = msgspec.json.format(
                msgspec.json.encode(data, order="sorted", enc_hook=str), indent=2
            ).decode()
        except (TypeError, UnicodeError, msgspec.EncodeError):
            text = None
    if text is None or not text.isascii():
        import json

        text = json.dumps(data, indent=2, sort_keys=True, default=str)
    return text


def usd(micros: int) -> str:
    """Money for people: micro-dollars as dollars with sensible precision."""
    dollars = micros / 1_000_000
    if dollars and abs(dollars) < 0.01:
        return f"${dollars:.4f}"
    return f"${dollars:.2f}"


def width() -> int:
    """The terminal's width; 120 when output is not a terminal (COLUMNS wins)."""
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """Render a table with rich (imported only when a table is printed)."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for i, col in enumerate(columns):
        t.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        t.add_row(*row)
    Console(file=sys.stdout, width=width()).print(t)
