"""Reading a Claude Code transcript fast: whole blocks of lines decoded in one C call.

A block that cannot be decoded whole (a malformed line, an entry without an id)
is read around the line at fault by lines.py, line by line, so the entries and
the counts of malformed lines are the same either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from codetier.audit import decoded
from codetier.audit.decoded import Slow as _Slow
from codetier.audit.decoded import _Line
from codetier.audit.hiding import import_hiding
from codetier.audit.lines import Progress, Prompt, Usage, read_lines, spelled

import_hiding("msgspec", "typing_extensions")  # a no-op: decoded.py has imported it so

import msgspec  # noqa: E402

CHUNK = 1 << 16  # bytes read and decoded at a time: few enough to stay in the CPU's cache
FAULTS = 8  # lines at fault in a block before the rest of it is read line by line


# ODD: a line break other than "}\n{" (or "}\r\n{"), blank lines aside: a line that does
# not start with "{", or one that does not end with "}" (an object carried over to the
# next line). See decoded.gap, which blank lines fail too.
_ODD = re.compile(rb"\n(?:[^{\n]|(?<=[^}\r\n]\n)|(?<=[^}]\r\n))")


_LINES = msgspec.json.Decoder(_Line).decode_lines


_AT_BYTE = re.compile(r"\(byte (\d+)\)$")


def _blocks(f: BinaryIO, progress: Progress) -> Iterator[tuple[int, bytes]]:
    """(file offset, block of whole lines) from `progress.offset` on, updating it. A last
    line without its newline is still being written: it is left for later."""
    f.seek(progress.offset)
    pending: list[bytes] = []  # the start of a line, kept until its end is read
    while data := f.read(CHUNK):
        end = data.rfind(b"\n") + 1
        if not end:  # a line longer than CHUNK: joined once, when its end comes
            pending.append(data)
            continue
        block = b"".join((*pending, data[:end])) if pending else data[:end]
        pending = [data[end:]] if end < len(data) else []
        base = progress.offset
        progress.offset += len(block)  # lines are counted by _block
        progress.bytes += len(block)
        yield base, block


def _fast(
    block: bytes, progress: Progress, previous: list[str], whole: bool
) -> tuple[list[Usage | Prompt], int]:
    """A block's entries with every line decoded in one C call. Raises _Slow when any
    line is not a well-formed object of the expected shape, or an entry has no id of its
    own (its key is then the line's offset): the caller reads that block line by line,
    which counts malformed lines. Same entries, same checks as `read_lines`. Also returns the
    number of lines when `whole` (checked for odd lines: see decoded.gap), else -1."""
    if block[:1] != b"{":
        raise _Slow(0)  # read_lines counts a line that does not start with "{" as malformed
    gap, n = decoded.gap(block)
    clean = gap < 0  # then every line holds an object, and there are n lines
    if whole and not clean and (odd := _ODD.search(block, gap)) is not None:
        raise _Slow(odd.start() + 1)
    try:
        lines = _LINES(block)
    except msgspec.DecodeError as e:  # "JSON is malformed: ... (byte N)" names where
        at = _AT_BYTE.search(str(e))
        if at is None and str(e) == "Input data was truncated":  # at the block's end
            raise _Slow(len(block) - 1) from None
        raise _Slow(int(at.group(1)) if at else None) from None
    except UnicodeDecodeError as e:
        raise _Slow(e.start) from None
    except RecursionError:  # a line nested too deep: read_lines counts it as malformed
        raise _Slow from None
    if len(lines) > (n if clean else sum(1 for line in block.split(b"\n") if line.strip())):
        raise _Slow  # a line holding two objects, which read_lines (as ccusage) finds malformed
    out = decoded.entries(lines, previous, progress)
    return out, (n if clean else block.count(b"\n")) if whole else -1


def read(f: BinaryIO, progress: Progress) -> Iterator[Usage | Prompt]:
    """Usage entries and prompts of an open transcript from `progress.offset` on (the
    caller closes it)."""
    name = spelled(str(f.name))  # in the keys of lines with no id, as ledgers already store them
    previous = [""]  # requestId of the last usage line that parsed
    for base, block in _blocks(f, progress):
        yield from _block(block, base, name, progress, previous, whole=True, count=True)


def _block(
    block: bytes,
    base: int,
    name: str,
    progress: Progress,
    previous: list[str],
    whole: bool = False,
    count: bool = False,
) -> list[Usage | Prompt]:
    """A block's entries by `_fast`. When it refuses: the lines before the one at fault by
    `_fast`, that line by `read_lines`, the rest likewise, in a loop; when the fault has no
    position, each half by itself, down to single lines (a malformed line costs about one
    more decode). Past FAULTS faults in a block, the rest is read line by line at once."""
    seen = (progress.repeats, progress.malformed)
    try:
        out, n = _fast(block, progress, previous, whole)  # parts of a block were checked whole
        if count:
            progress.lines += n if n >= 0 else block.count(b"\n")
        return out
    except _Slow as e:
        progress.repeats, progress.malformed = seen
        at = e.at
    if count:
        progress.lines += block.count(b"\n")
    out = []
    for _ in range(FAULTS):
        if at is None or not 0 <= at < len(block):
            return out + _halves(block, base, name, progress, previous)
        # The line holding that byte and the one before it: a line cut short is noticed
        # only on the next line's first byte.
        start = block.rfind(b"\n", 0, max(block.rfind(b"\n", 0, at), 0)) + 1
        end = block.find(b"\n", at) + 1 or len(block)
        if start:
            out += _block(block[:start], base, name, progress, previous)
        out += read_lines(block[start:end], base + start, name, progress, previous)
        if end >= len(block):
            return out
        block, base = block[end:], base + end  # checked again for odd lines if this block was
        seen = (progress.repeats, progress.malformed)
        try:
            return out + _fast(block, progress, previous, whole)[0]
        except _Slow as e:
            progress.repeats, progress.malformed = seen
            at = e.at
    return out + list(read_lines(block, base, name, progress, previous))


def _halves(
    block: bytes, base: int, name: str, progress: Progress, previous: list[str]
) -> list[Usage | Prompt]:
    cut = block.rfind(b"\n", 0, len(block) // 2) + 1 or block.find(b"\n") + 1
    if cut >= len(block):
        return list(read_lines(block, base, name, progress, previous))
    return _block(block[:cut], base, name, progress, previous) + _block(
        block[cut:], base + cut, name, progress, previous
    )
