"""The plan call: the deep model reads the request, the repo map and the
relevant files and returns a plan; an invalid plan gets one repair attempt
(shown its own reply and every problem), then a clear failure."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from codetier import engine, tokens
from codetier.engine import Check, Job, Link, Result, Route
from codetier.errors import AllAttemptsFailed, CodetierError
from codetier.plan import repomap, schema
from codetier.plan.settings import PlanSettings
from codetier.providers.base import Call, Completion
from codetier.registry import Registry

SYSTEM = """You are a principal engineer planning a multi-file change. Cheaper models will
carry out each subtask, in parallel where the dependencies allow, each seeing only the
files its subtask lists. Reply with ONE JSON object and nothing else:

{
  "goal": "one sentence: what the whole change achieves",
  "subtasks": [
    {
      "id": "short-name",
      "instruction": "exactly what to change in these files, naming functions and signatures",
      "files": ["path/that/exists.py", {"path": "path/to/create.py", "new": true}],
      "depends_on": ["ids of subtasks whose result this one needs"],
      "task": "implement",
      "tier": "fast | balanced | deep",
      "expected": "how to tell the subtask succeeded"
    }
  ],
  "risks": ["what could break"]
}

Rules:
1. Paths are relative to the repository root; a file that does not exist yet is marked new.
2. Every file a subtask edits is in its files; two subtasks that edit the same file must be
   ordered by depends_on. No cycles.
3. Pick the cheapest tier that can do each subtask: fast for mechanical edits (renamed
   imports, call sites), balanced for ordinary code, deep only for subtle logic.
4. task is one of: {tasks}.
5. Prefer few, well-separated subtasks; independent subtasks run in parallel."""

PLANNABLE_TASKS = ("implement", "test_writing", "docstring", "debug")


class PlanFailed(CodetierError):
    """No valid plan after the repair attempt, or no model answered at all."""


def context(
    root: Path,
    text: str,
    named: Sequence[str],
    settings: PlanSettings,
    buffers: Mapping[str, str] | None = None,
) -> tuple[repomap.RepoMap, str]:
    """The repo map and the contents of the named and relevant files, within budget."""
    rmap = repomap.build(root, text, named, settings.map_tokens)
    parts: list[str] = []
    used = 0
    for path in dict.fromkeys([*named, *rmap.relevant]):
        try:
            body = buffers[path] if buffers and path in buffers else (root / path).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        shown = body if body.endswith("\n") or not body else body + "\n"
        block = f"File {path}:\n```\n{shown}```"
        cost = tokens.estimate(block)
        if used + cost > settings.context_tokens:
            parts.append(f"(File {path} and later ones left out: over the plan's context budget)")
            break
        parts.append(block)
        used += cost
    return rmap, "\n\n".join(parts)


def prompt_for(text: str, rmap: repomap.RepoMap, files: str) -> str:
    parts = [
        f"Request: {text}",
        "Repository map (* marks files the request names or mentions, and their importers):\n" + rmap.text,
    ]
    if files:
        parts.append(files)
    parts.append("Return the plan as one JSON object.")
    return "\n\n".join(parts)


def job(
    text: str,
    root: Path,
    reg: Registry,
    task: str,
    named: Sequence[str],
    settings: PlanSettings,
    buffers: Mapping[str, str] | None = None,
) -> Job:
    spec = reg.task(task)
    rmap, files = context(root, text, named, settings, buffers)
    base = prompt_for(text, rmap, files)
    tasks = ", ".join(t for t in PLANNABLE_TASKS if t in reg.tasks)
    system = SYSTEM.replace("{tasks}", tasks)
    last: list[str] = []

    def build(link: Link, failures: Sequence[str]) -> Call:
        prompt = base
        if failures and last:
            problems = "\n".join(f"- {f}" for f in failures)
            prompt += (
                f"\n\nYour previous plan:\n```json\n{last[-1]}\n```\n"
                f"It was rejected:\n{problems}\nReturn a corrected plan as one JSON object."
            )
        elif failures:
            prompt += "\n\nEarlier attempts failed:\n" + "\n".join(f"- {f}" for f in failures)
        return Call(task, link.model, system, prompt, spec.max_tokens)

    def check(c: Completion) -> Check:
        last.append(c.text.strip()[:20_000])
        if c.stop_reason == "max_tokens":
            return Check(False, "the plan was cut off at max_tokens")
        try:
            plan = schema.parse(c.text, reg, root, max_subtasks=settings.max_subtasks)
        except schema.PlanInvalid as e:
            return Check(False, "the plan is invalid: " + "; ".join(e.problems))
        return Check(True, value=plan)

    return Job(task, build, check)


def repair_route(r: Route) -> Route:
    """Exactly two attempts: the plan, then one repair (on the next link when
    the chain has one, else the same model again)."""
    second = r.links[1] if len(r.links) > 1 else r.links[0]
    return Route(r.task, r.tier, (r.links[0], second), r.reasons, r.context_tokens)


def make_plan(
    text: str,
    root: Path,
    r: Route,
    reg: Registry,
    ctx: engine.Context,
    named: Sequence[str],
    settings: PlanSettings,
    buffers: Mapping[str, str] | None = None,
) -> Result:
    """Run the plan call; the Result's value is a checked schema.Plan."""
    plan_job = job(text, root, reg, r.task, named, settings, buffers)
    checked: list[bool] = []  # one entry per answer that came back and was checked

    def check(c: Completion) -> Check:
        verdict = plan_job.check(c)
        checked.append(verdict.ok)
        return verdict

    try:
        return engine.run(dataclasses.replace(plan_job, check=check), repair_route(r), reg, ctx)
    except AllAttemptsFailed as e:
        lines = "\n".join(f"  {line}" for line in e.lines)
        raise PlanFailed(f"{_why(len(checked))}:\n{lines}") from None


def _why(answers: int) -> str:
    """A provider error is not a failed plan check: say which one happened."""
    if answers == 0:
        return "no plan was made: the model could not be reached"
    if answers == 1:
        return "no valid plan (the only answer failed the plan check; the other call did not get through)"
    return "no valid plan after one repair attempt"


def dumps(plan: schema.Plan) -> str:
    return json.dumps(plan.as_dict(), indent=2)
