"""Running an action: off the event loop (a daemon thread), with `$/progress`
begin/report/end, cancellation, and errors mapped to the right channel —
what the user can act on to `window/showMessage`, the rest to
`window/logMessage`. One failing action never takes the server down.

Everything that talks to the client runs on the event loop; the worker
thread only computes, and reports progress through `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from codetier_lsp import edits
from codetier_lsp.state import CodetierServer
from lsprotocol import types

from codetier import engine
from codetier.engine import Context, Job, Link, Result, Route
from codetier.errors import AllAttemptsFailed, CodetierError, ConfigError, NoKeyError
from codetier.providers.base import Call
from codetier.registry import Registry

T = TypeVar("T")


class Cancelled(Exception):
    """The user cancelled the action; nothing is applied."""


@dataclass
class Work:
    """What a worker gets: the registry, a ledger context, progress and cancellation."""

    reg: Registry
    ctx: Context
    report: Callable[[str], None]
    cancel: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled

    def run(self, job: Job, route: Route) -> Result:
        """engine.run, with a cancellation check and a progress report before each link."""

        def build(link: Link, failures: Sequence[str]) -> Call:
            self.check()
            note = f" (escalating: {failures[-1][:80]})" if failures else ""
            self.report(f"{link.tier}: {link.label}{note}")
            return job.build(link, failures)

        result = engine.run(dataclasses.replace(job, build=build), route, self.reg, self.ctx)
        self.check()
        return result


@dataclass
class Outcome:
    """What an action produced, applied on the event loop."""

    changes: list[edits.FileChange] = field(default_factory=list)
    message: str | None = None  # shown to the user (info)
    diagnostics: tuple[str, list[types.Diagnostic]] | None = None
    show: str | None = None  # a URI to open (read-only explanation)
    written: list[str] = field(default_factory=list)  # URIs the server created itself
    result: Result | None = None


async def in_thread(fn: Callable[[], T], name: str = "codetier-work") -> T:
    """Run `fn` in a daemon thread (so a hung model call never blocks exit) and await it."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[T] = loop.create_future()

    def settle(value: Any, error: BaseException | None) -> None:
        if fut.done():
            return
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(value)

    def target() -> None:
        try:
            value, error = fn(), None
        except BaseException as e:
            value, error = None, e
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is exiting
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=target, name=name, daemon=True).start()
    return await fut


def user_error(ls: CodetierServer, error: CodetierError) -> None:
    """An error the user can act on: a message they see."""
    serious = isinstance(error, (NoKeyError, AllAttemptsFailed, ConfigError))
    kind = types.MessageType.Error if serious else types.MessageType.Warning
    ls.window_show_message(types.ShowMessageParams(kind, f"codetier: {error}"))


def log(ls: CodetierServer, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
    ls.window_log_message(types.LogMessageParams(kind, message))


class Progress:
    """Server-initiated work-done progress, or nothing when the client has none."""

    def __init__(self, ls: CodetierServer, title: str) -> None:
        self.ls, self.title = ls, title
        self.token = f"codetier-{uuid.uuid4().hex[:12]}"
        self.enabled = ls.supports("window.work_done_progress")
        self.cancelled: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def begin(self) -> None:
        if not self.enabled:
            return
        try:
            await self.ls.work_done_progress.create_async(self.token)
        except Exception as e:  # the client refused: run without progress
            log(self.ls, f"codetier: no progress for {self.title}: {e}")
            self.enabled = False
            return
        self.ls.work_done_progress.begin(
            self.token, types.WorkDoneProgressBegin(title=self.title, cancellable=True, message="starting")
        )
        token_future = self.ls.work_done_progress.tokens.get(self.token)
        if token_future is not None:
            token_future.add_done_callback(lambda f: self._on_cancel() if f.cancelled() else None)

    def _on_cancel(self) -> None:
        if not self.cancelled.done():
            self.cancelled.set_result(None)

    def report(self, message: str) -> None:
        if self.enabled:
            self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if self.enabled:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)


async def execute(
    ls: CodetierServer, title: str, reg: Registry, ctx: Context, work: Callable[[Work], Outcome]
) -> dict[str, Any]:
    """Run `work` off the loop with progress and cancellation, then apply its outcome."""
    loop = asyncio.get_running_loop()
    progress = Progress(ls, title)
    await progress.begin()

    def report(message: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is exiting
            loop.call_soon_threadsafe(progress.report, message)

    w = Work(reg, ctx, report)
    task: asyncio.Future[Outcome] = asyncio.ensure_future(in_thread(lambda: work(w)))
    waiters: set[asyncio.Future[Any]] = {task, progress.cancelled}
    try:
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # $/cancelRequest for the executeCommand request
        w.cancel.set()
        progress.end("cancelled")
        raise
    if task not in done:
        w.cancel.set()
        task.add_done_callback(_swallow)
        progress.end("cancelled")
        return {"status": "cancelled"}
    progress.cancelled.cancel()
    try:
        outcome = task.result()
    except Cancelled:
        progress.end("cancelled")
        return {"status": "cancelled"}
    except CodetierError as e:
        user_error(ls, e)
        progress.end(f"failed: {str(e).splitlines()[0]}")
        return {"status": "failed", "error": str(e)}
    except Exception:
        log(ls, f"codetier: {title} failed:\n{traceback.format_exc()}", types.MessageType.Error)
        progress.end("failed (see the codetier log)")
        return {"status": "error"}
    for warning in outcome.result.warnings if outcome.result else ():  # e.g. a budget step-down
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Warning, f"codetier: {warning}"))
    try:
        applied = await apply(ls, title, outcome)
    except Exception:
        log(ls, f"codetier: applying {title} failed:\n{traceback.format_exc()}", types.MessageType.Error)
        progress.end("failed (see the codetier log)")
        return {"status": "error"}
    summary = _summary(outcome)
    progress.end(summary if applied else "not applied")
    status = "ok" if applied else "not_applied"
    out: dict[str, Any] = {"status": status, "summary": summary}
    if outcome.result is not None:
        out.update(request_id=outcome.result.request_id, cost_micros=outcome.result.cost_micros)
    return out


def _swallow(task: asyncio.Future[Any]) -> None:
    with contextlib.suppress(BaseException):
        task.exception()


def _summary(outcome: Outcome) -> str:
    if outcome.result is None:
        return "done"
    r = outcome.result
    tries = f" after {len(r.attempts)} attempts" if len(r.attempts) > 1 else ""
    return f"done by {r.link.tier} ({r.link.label}){tries}"


async def apply(ls: CodetierServer, title: str, outcome: Outcome) -> bool:
    """Apply the outcome on the loop: edits through workspace/applyEdit, the rest directly."""
    applied = True
    if outcome.changes:
        for c in outcome.changes:
            doc = ls.workspace.text_documents.get(c.uri)
            if doc is not None and c.version is not None and doc.version != c.version:
                ls.window_show_message(
                    types.ShowMessageParams(
                        types.MessageType.Warning,
                        f"codetier: {c.uri} changed while {title} ran; run it again",
                    )
                )
                return False
        versioned = ls.supports("workspace.workspace_edit.document_changes")
        edit = edits.workspace_edit(outcome.changes, versioned)
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=title))
        applied = bool(result and result.applied)
        if not applied:
            reason = getattr(result, "failure_reason", None) or "no reason given"
            log(ls, f"codetier: the editor did not apply {title}: {reason}", types.MessageType.Warning)
    if outcome.diagnostics is not None:
        uri, diags = outcome.diagnostics
        ls.reviews[uri] = diags
        doc = ls.workspace.text_documents.get(uri)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=doc.version if doc else None)
        )
    if outcome.show is not None:
        if ls.supports("window.show_document.support"):
            await ls.window_show_document_async(types.ShowDocumentParams(uri=outcome.show, take_focus=True))
        else:
            outcome.message = outcome.message or f"codetier: wrote {outcome.show}"
    if outcome.message:
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, outcome.message))
    return applied
