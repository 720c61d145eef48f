"""Transcript lines one at a time: the entries the audit reads and how a line is
checked, and the line-by-line reader for blocks that parse.py cannot decode whole.

Validation follows what ccusage 20.0.24 accepts, so per-day totals agree with
it: a usage line needs a `timestamp` of the form ccusage takes (see _TIMESTAMP;
year 0, which ccusage takes, Python cannot), a `message.model` that is a string
and not empty (ccusage skips ""; a line with no model it adds to its day's total
under no model, codetier counts as malformed), and integer
`input_tokens`/`output_tokens`; `cache_*_input_tokens`, `message.id` and
`requestId` may be absent but not null. Cache writes are the split in
`usage.cache_creation` (5-minute and 1-hour) when there is one, and then
`cache_creation_input_tokens` is not read, else all of that at the 5-minute rate,
as ccusage has it. Token counts must not be negative
(ccusage refuses those too) and must be below 2**40, a trillion tokens: ccusage
takes any count up to 2**64 - 1, but the ledger's sums are 64-bit. Anything else
is counted as malformed and skipped. `<synthetic>` messages are not usage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any, NamedTuple, TypeVar

SYNTHETIC = "<synthetic>"
NOT_PROMPTS = ("<command-", "<local-command-", "<system-reminder>", "Caveat: ")
_REQUEST_ID = b'"requestId":"'
_TOOL_RESULT = b'"type":"tool_result"'


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


class Prompt(NamedTuple):
    key: str
    ts: dt.datetime
    session: str | None
    project: str | None
    text: str


class Progress:
    """How far a file has been read, and what was counted on the way."""

    __slots__ = ("bytes", "lines", "malformed", "offset", "repeats")

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset  # just past the last complete line read
        self.lines = 0
        self.malformed = 0
        self.bytes = 0
        self.repeats = 0  # usage lines skipped unparsed: the same request as the line before


Text = TypeVar("Text", str, None)


def spelled(path: str) -> str:
    """A file name as printable text: bytes that are not UTF-8 (Python gives them as
    surrogates) spelled with \\x escapes, as the keys of id-less lines and messages show them."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def storable(text: Text) -> Text:
    """`text` as SQLite can store it: a lone surrogate (JSON allows "\\ud800", UTF-8 does
    not) becomes U+FFFD; any other text is unchanged."""
    if text is None or text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


TOKEN_BITS = 40  # token counts are below 2**40 (see above)


def counted(n_in: int, n_out: int, created: int, read: int) -> bool:
    """Whether four token counts are each from 0 to 2**40 - 1: or-ed together, they fit in
    40 bits only then (a negative int has its sign bit set all the way up)."""
    return not (n_in | n_out | created | read) >> TOKEN_BITS


# The timestamps ccusage 20.0.24 takes (tried on its binary): date, "T", time to the second,
# then milliseconds or none, then "Z" or an offset. Not a space for the "T", a date alone, a
# time with no zone, other fractions, "+0530", a week date or ISO's basic format, all of
# which datetime.fromisoformat takes. The date and time must exist, as fromisoformat checks.
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?(?:Z|[+-]\d\d:\d\d)", re.ASCII)


def timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str) or _TIMESTAMP.fullmatch(value) is None:
        raise ValueError("timestamp")
    return dt.datetime.fromisoformat(value)


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
    if not (type(model) is str and model and type(n_in) is int and type(n_out) is int
            and type(created) is int and type(read) is int and type(message_id) is str
            and type(request_id) is str and counted(n_in, n_out, created, read)):  # fmt: skip
        raise ValueError("usage")
    split = usage.get("cache_creation")
    if split is None:
        w5, w1 = created, 0
    elif type(split) is dict:
        w5, w1 = split.get("ephemeral_5m_input_tokens", 0), split.get("ephemeral_1h_input_tokens", 0)
        if not (type(w5) is int and type(w1) is int and counted(w5, w1, 0, 0)):
            raise ValueError("usage.cache_creation")
    else:  # ccusage reads [] as no split, and refuses any other value; [] is rare enough
        raise ValueError("usage.cache_creation")
    ts = timestamp(obj.get("timestamp"))
    if model == SYNTHETIC:
        return None
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
        w5,
        w1,
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
    if not isinstance(content, str) or not content.strip() or content.lstrip().startswith(NOT_PROMPTS):
        return None
    try:
        ts = timestamp(obj.get("timestamp"))
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


def read_lines(
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
        if not line or line.isspace():  # blank, "\r" of a CRLF file included
            continue
        # A line that does not start with "{" is counted as malformed, and still read when
        # it parses (JSON allows leading blanks); a line is counted once however it fails.
        odd = line[0] != 0x7B
        progress.malformed += odd
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
        except (ValueError, RecursionError):  # nested past the interpreter's limit: malformed too
            progress.malformed += not odd
            continue
        if not isinstance(obj, dict):
            progress.malformed += not odd
            continue
        where = f"{name}:{base + line_start}"
        message = obj.get("message")
        if isinstance(message, dict) and isinstance(message.get("usage"), dict):
            try:
                entry = usage_of(obj, where)
            except (ValueError, TypeError):
                progress.malformed += not odd
                continue
            previous = rid if usage else b""
            last[0] = previous.decode("utf-8", "replace")
            if entry is not None:
                yield entry
        elif obj.get("type") == "user":
            prompt = prompt_of(obj, where)
            if prompt is not None:
                yield prompt
