"""Streaming a Claude Code transcript: usage entries and user prompts, line by line.

Validation follows what ccusage 20.0.24 accepts, so per-day totals agree with
it: a usage line needs a parseable `timestamp`, a string `message.model` and
integer `input_tokens`/`output_tokens`; `cache_*_input_tokens`, `message.id`
and `requestId` may be absent but not null. Anything else is counted as
malformed and skipped. `<synthetic>` messages are not usage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

SYNTHETIC = "<synthetic>"
_REQUEST_ID = b'"requestId":"'
_TOOL_RESULT = b'"type":"tool_result"'
CHUNK = 1 << 22
_NOT_PROMPTS = ("<command-", "<local-command-", "<system-reminder>", "Caveat: ")


class Usage(NamedTuple):  # tuples, not dataclasses: there are hundreds of thousands
    key: str  # message.id + requestId: the same usage repeats on every content-block line
    ts: dt.datetime
    session: str | None
    project: str | None
    model: str
    sidechain: bool
    input: int
    output: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int


_new = tuple.__new__


class Prompt(NamedTuple):
    key: str
    ts: dt.datetime
    session: str | None
    project: str | None
    text: str


@dataclass
class Progress:
    offset: int = 0  # just past the last complete line read
    lines: int = 0
    malformed: int = 0
    bytes: int = 0
    repeats: int = 0  # usage lines skipped unparsed: the same request as the line before


# The fast path (see _fast): a whole block of lines decoded in C into these, keeping only
# the fields the audit reads (message content, tool results etc. are skipped unread).
# Scalars are typed Any and checked in Python exactly as usage_of / prompt_of check them;
# a shape they cannot hold (a non-object message or usage, say) fails the block, which is
# then read line by line.
class _Usage(msgspec.Struct, gc=False):
    input_tokens: Any = None
    output_tokens: Any = None
    cache_creation_input_tokens: Any = 0
    cache_read_input_tokens: Any = 0
    cache_creation: Any = None


class _Block(msgspec.Struct, gc=False):
    type: Any = None
    text: Any = None


class _Message(msgspec.Struct, gc=False):
    id: Any = ""
    model: Any = None
    role: Any = "user"
    usage: _Usage | None = None
    content: str | list[_Block] | None = None


class _Line(msgspec.Struct, gc=False):
    type: Any = None
    timestamp: Any = None
    requestId: Any = ""
    sessionId: Any = None
    cwd: Any = None
    isSidechain: Any = None
    isMeta: Any = None
    uuid: Any = None
    message: _Message | None = None


_INDENTED = re.compile(rb"\n[ \t\r]")
_GAP = re.compile(rb"\n[\n \t\r]")  # a blank or an indented line
_LINES = msgspec.json.Decoder(_Line).decode_lines


class _Slow(Exception):
    """The block needs the line-by-line path; `at` is a byte inside the line at fault, if known."""

    def __init__(self, at: int | None = None) -> None:
        self.at = at


_AT_BYTE = re.compile(r"\(byte (\d+)\)$")


def _time(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("timestamp")
    ts = dt.datetime.fromisoformat(value)
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def usage_of(obj: dict[str, Any], where: str) -> Usage | None:
    """The usage a line carries; None for a synthetic message; ValueError when malformed.
    Optional fields default to a value of the right type, so a present null fails."""
    message = obj["message"]
    usage = message["usage"]
    model = message.get("model")
    n_in, n_out = usage.get("input_tokens"), usage.get("output_tokens")
    created = usage.get("cache_creation_input_tokens", 0)
    read = usage.get("cache_read_input_tokens", 0)
    message_id, request_id = message.get("id", ""), obj.get("requestId", "")
    if not (type(model) is str and type(n_in) is int and type(n_out) is int and type(created) is int
            and type(read) is int and type(message_id) is str and type(request_id) is str):  # fmt: skip
        raise ValueError("usage")
    ts = _time(obj.get("timestamp"))
    if model == SYNTHETIC:
        return None
    split = usage.get("cache_creation")
    one_hour = split.get("ephemeral_1h_input_tokens") if type(split) is dict else 0
    one_hour = min(one_hour, created) if type(one_hour) is int and one_hour > 0 else 0
    session, project = obj.get("sessionId"), obj.get("cwd")
    return Usage(
        f"{message_id}:{request_id}" if message_id else where,
        ts,
        session if type(session) is str else None,
        project if type(project) is str else None,
        model,
        obj.get("isSidechain") is True,
        n_in,
        n_out,
        created - one_hour,
        one_hour,
        read,
    )


def prompt_of(obj: dict[str, Any], where: str) -> Prompt | None:
    """A prompt a person typed (not a tool result, a meta line or a slash-command echo)."""
    message = obj.get("message")
    if obj.get("isMeta") or not isinstance(message, dict) or message.get("role", "user") != "user":
        return None
    content = message.get("content")
    if isinstance(content, list):
        if any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return None
        content = "\n".join(
            b["text"]
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        )
    if not isinstance(content, str) or not content.strip() or content.lstrip().startswith(_NOT_PROMPTS):
        return None
    try:
        ts = _time(obj.get("timestamp"))
    except ValueError:
        return None
    uuid = obj.get("uuid")
    return Prompt(
        key=uuid if isinstance(uuid, str) else where,
        ts=ts,
        session=obj.get("sessionId") if isinstance(obj.get("sessionId"), str) else None,
        project=obj.get("cwd") if isinstance(obj.get("cwd"), str) else None,
        text=content,
    )


def _blocks(path: str | Path, progress: Progress) -> Iterator[tuple[int, bytes]]:
    """(file offset, block of whole lines) from `progress.offset` on, updating it.
    A last line without its newline is still being written: it is left for later."""
    with open(path, "rb") as f:
        f.seek(progress.offset)
        pending = b""
        while data := f.read(CHUNK):
            block = pending + data
            end = block.rfind(b"\n") + 1
            block, pending = block[:end], block[end:]
            if not block:
                continue
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
    which counts malformed lines. Same entries, same checks as `_slow`. Also returns the
    number of lines when `whole` (checked for blank and indented lines) and known, else -1."""
    if block[:1] != b"{":
        raise _Slow(0)  # _slow counts a line that does not start with "{" as malformed
    n = -1
    if whole:
        gap = _GAP.search(block)
        if gap is None:
            n = 0  # every line is one decoded object
        elif (indented := _INDENTED.search(block, gap.start())) is not None:
            raise _Slow(indented.start() + 1)
    try:
        lines = _LINES(block)
    except msgspec.DecodeError as e:  # "JSON is malformed: ... (byte N)" names where
        at = _AT_BYTE.search(str(e))
        if at is None and str(e) == "Input data was truncated":  # at the block's end
            raise _Slow(len(block) - 1) from None
        raise _Slow(int(at.group(1)) if at else None) from None
    except UnicodeDecodeError as e:
        raise _Slow(e.start) from None
    out: list[Usage | Prompt] = []
    last = previous[0]
    for obj in lines:
        message = obj.message
        if message is None:
            continue
        usage = message.usage
        if usage is not None:
            rid = obj.requestId
            if rid and rid == last:
                progress.repeats += 1
                continue
            model, n_in, n_out = message.model, usage.input_tokens, usage.output_tokens
            created, read = usage.cache_creation_input_tokens, usage.cache_read_input_tokens
            message_id = message.id
            if not (type(model) is str and type(n_in) is int and type(n_out) is int and type(created) is int
                    and type(read) is int and type(message_id) is str and type(rid) is str):  # fmt: skip
                progress.malformed += 1
                continue
            try:
                ts = _time(obj.timestamp)
            except ValueError:
                progress.malformed += 1
                continue
            last = rid if rid else ""
            if model == SYNTHETIC:
                continue
            if not message_id:
                raise _Slow
            split = usage.cache_creation
            one_hour = split.get("ephemeral_1h_input_tokens") if type(split) is dict else 0
            one_hour = min(one_hour, created) if type(one_hour) is int and one_hour > 0 else 0
            session, project = obj.sessionId, obj.cwd
            out.append(
                _new(  # Usage(...) in C: a namedtuple's own __new__ is Python, run per entry here
                    Usage,
                    (
                        f"{message_id}:{rid}",
                        ts,
                        session if type(session) is str else None,
                        project if type(project) is str else None,
                        model,
                        obj.isSidechain is True,
                        n_in,
                        n_out,
                        created - one_hour,
                        one_hour,
                        read,
                    ),
                )
            )
        elif obj.type == "user" and not obj.isMeta and message.role == "user":
            content = message.content
            if isinstance(content, list):
                for b in content:  # a loop, not any(): most user lines are tool results
                    if b.type == "tool_result":
                        break  # content stays a list: not a prompt
                else:
                    content = "\n".join(
                        b.text for b in content if b.type == "text" and isinstance(b.text, str)
                    )
            if (
                not isinstance(content, str)
                or not content.strip()
                or content.lstrip().startswith(_NOT_PROMPTS)
            ):
                continue
            try:
                ts = _time(obj.timestamp)
            except ValueError:
                continue
            uuid, session, project = obj.uuid, obj.sessionId, obj.cwd
            if not isinstance(uuid, str):
                raise _Slow
            out.append(
                Prompt(
                    uuid,
                    ts,
                    session if isinstance(session, str) else None,
                    project if isinstance(project, str) else None,
                    content,
                )
            )
    previous[0] = last
    return out, len(lines) if n == 0 else -1


def read(path: str | Path, progress: Progress) -> Iterator[Usage | Prompt]:
    """Usage entries and prompts from `progress.offset` on."""
    previous = [""]  # requestId of the last usage line that parsed
    name = str(path)
    for base, block in _blocks(path, progress):
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
    `_fast`, that line by `_slow`, the rest likewise; when the fault has no position, each
    half by itself, down to single lines (a malformed line costs about one more decode)."""
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
    if at is not None and 0 <= at < len(block):
        # The line holding that byte and the one before it: a line cut short is noticed
        # only on the next line's first byte.
        start = block.rfind(b"\n", 0, max(block.rfind(b"\n", 0, at), 0)) + 1
        end = block.find(b"\n", at) + 1 or len(block)
        out = _block(block[:start], base, name, progress, previous) if start else []
        out += _slow(block[start:end], base + start, name, progress, previous)
        if end < len(block):  # checked again for indented lines if this block was
            out += _block(block[end:], base + end, name, progress, previous, whole)
        return out
    cut = block.rfind(b"\n", 0, len(block) // 2) + 1 or block.find(b"\n") + 1
    if cut >= len(block):
        return list(_slow(block, base, name, progress, previous))
    return _block(block[:cut], base, name, progress, previous) + _block(
        block[cut:], base + cut, name, progress, previous
    )


def _slow(
    block: bytes, base: int, name: str, progress: Progress, last: list[str]
) -> Iterator[Usage | Prompt]:
    """One block line by line. Lines are split in C and tested for the two keys with
    substring searches (inside a JSON string quotes are escaped, so these byte patterns
    are real keys); only candidates are parsed."""
    previous = last[0].encode()
    from json import loads

    start = 0
    for line in block.split(b"\n"):
        line_start, start = start, start + len(line) + 1
        if not line:
            continue
        if line[0] != 0x7B:  # "{": cannot be a JSON object
            progress.malformed += 1
        usage = b'"usage"' in line
        if usage:
            rid = b""
            if (i := line.find(_REQUEST_ID)) >= 0:
                i += len(_REQUEST_ID)
                rid = line[i : line.find(b'"', i)]
                if rid and rid == previous:
                    progress.repeats += 1
                    continue
        elif b'"user"' not in line or _TOOL_RESULT in line:
            continue
        try:
            obj = loads(line.decode("utf-8", "replace"))
        except ValueError:
            progress.malformed += 1
            continue
        if not isinstance(obj, dict):
            progress.malformed += 1
            continue
        where = f"{name}:{base + line_start}"
        message = obj.get("message")
        if isinstance(message, dict) and isinstance(message.get("usage"), dict):
            try:
                entry = usage_of(obj, where)
            except (ValueError, TypeError):
                progress.malformed += 1
                continue
            previous = rid if usage else b""
            last[0] = previous.decode("utf-8", "replace")
            if entry is not None:
                yield entry
        elif obj.get("type") == "user":
            prompt = prompt_of(obj, where)
            if prompt is not None:
                yield prompt
