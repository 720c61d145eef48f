"""The entries of a decoded block of transcript lines (see parse.py), and the check for
odd line breaks, in C where codetier/audit/_speedups.c was built and otherwise in Python:
the same entries, counts and faults either way (the tests run every case through both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from codetier.audit.hiding import import_hiding
from codetier.audit.lines import NOT_PROMPTS, SYNTHETIC, TOKEN_BITS, Progress, Prompt, Usage, timestamp

import_hiding("msgspec", "typing_extensions")  # ~10 ms less at start (see hiding.py)

import msgspec  # noqa: E402

_new = tuple.__new__  # builds a Usage or a Prompt in C (see py_entries)


class Slow(Exception):
    """The block needs the line-by-line path; `at` is a byte inside the line at fault, if known."""

    def __init__(self, at: int | None = None) -> None:
        self.at = at


# A whole block of lines decoded in C into these (see parse._fast), keeping only
# the fields the audit reads (message content, tool results etc. are skipped unread).
# Scalars are typed Any and checked (by py_entries or its C twin) as usage_of / prompt_of do;
# a shape they cannot hold (a non-object message or usage, say) fails the block, which is
# then read line by line.
class _Split(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: Any = 0
    ephemeral_1h_input_tokens: Any = 0


class _Usage(msgspec.Struct, gc=False):
    input_tokens: Any = None
    output_tokens: Any = None
    cache_creation_input_tokens: Any = 0
    cache_read_input_tokens: Any = 0
    cache_creation: _Split | None = None


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


def py_gap(block: bytes) -> tuple[int, int]:
    """Where the first line break other than "}\n{" (or "}\r\n{") is, or -1, and the
    number of newlines up to it (all of them, with -1): from one newline to the next by
    find (memchr), a third fewer instructions than a regex, whose engine steps through
    every byte."""
    find, last = block.find, len(block) - 1
    i, n = find(b"\n"), 0
    while i >= 0:
        n += 1
        if i:  # the line before ends with "}" (or "}\r")
            before = block[i - 1]
            if before == 13:  # "\r"
                if i >= 2 and block[i - 2] != 125:
                    return i, n
            elif before != 125:
                return i, n
        if i < last and block[i + 1] != 123:  # the next starts with "{"
            return i, n
        i = find(b"\n", i + 1)
    return -1, n


def prompt(obj: _Line) -> Prompt | None:
    """The prompt on a user line (its type, isMeta and role checked already), or None."""
    content = obj.message.content if obj.message is not None else None
    if isinstance(content, list):
        for b in content:  # a loop, not any(): most user lines are tool results
            if b.type == "tool_result":
                return None
        content = "\n".join(b.text for b in content if b.type == "text" and isinstance(b.text, str))
    if not isinstance(content, str) or not content.strip() or content.lstrip().startswith(NOT_PROMPTS):
        return None
    try:
        ts = timestamp(obj.timestamp)
    except ValueError:
        return None
    uuid, session, project = obj.uuid, obj.sessionId, obj.cwd
    if not isinstance(uuid, str):
        raise Slow
    return _new(  # Prompt(...) in C: a namedtuple's own __new__ is Python
        Prompt,
        (
            uuid,
            ts,
            session if type(session) is str else None,
            project if type(project) is str else None,
            content,
        ),
    )


def py_entries(lines: list[_Line], previous: list[str], progress: Progress) -> list[Usage | Prompt]:
    """The usage entries and prompts of decoded lines, with the checks of lines.usage_of and
    prompt_of. Raises Slow when the block must be read line by line; `previous[0]` is the
    requestId of the last usage line that parsed, before and after."""
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
            # The checks of lines.usage_of, lines.counted inline: this runs for every usage line.
            if not (type(model) is str and model and type(n_in) is int and type(n_out) is int
                    and type(created) is int and type(read) is int and type(message_id) is str
                    and type(rid) is str and not (n_in | n_out | created | read) >> TOKEN_BITS):  # fmt: skip
                progress.malformed += 1
                continue
            split = usage.cache_creation  # the cache writes, as lines.usage_of has them
            if split is None:
                w5, w1 = created, 0
            else:
                w5, w1 = split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens
                if not (type(w5) is int and type(w1) is int and not (w5 | w1) >> TOKEN_BITS):
                    progress.malformed += 1
                    continue
            try:
                ts = timestamp(obj.timestamp)
            except ValueError:
                progress.malformed += 1
                continue
            last = rid if rid else ""
            if model == SYNTHETIC:
                continue
            if not message_id:
                raise Slow
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
                        w5,
                        w1,
                        read,
                    ),
                )
            )
        elif obj.type == "user" and not obj.isMeta and message.role == "user":
            entry = prompt(obj)
            if entry is not None:
                out.append(entry)
    previous[0] = last
    return out


gap: Callable[[bytes], tuple[int, int]] = py_gap
entries: Callable[[list[_Line], list[str], Progress], list[Usage | Prompt]] = py_entries
try:
    from codetier.audit import _speedups

    _speedups.configure(_Line, _Message, _Usage, _Split, _Block, Usage, Prompt, dt.datetime.fromisoformat,
                        prompt, Slow, SYNTHETIC, TOKEN_BITS)  # fmt: skip
except ImportError:  # not built: no compiler where it was installed
    pass
except TypeError:  # a msgspec that keeps struct fields other than in slots: not for the C code
    pass
else:
    gap, entries = _speedups.gap, _speedups.entries
