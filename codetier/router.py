"""Free text → task type → Route. Rules first, and always explainable.

Signals: word-boundary triggers per task (from the registry), risk words that
lift a tier, how many modules the named files span, and the context size
against each model's window. When the rules are unsure and a key is present,
`classify` asks the fast tier (billed as task `classify`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codetier import tokens
from codetier.engine import Check, Context, Job, Link, Route, run
from codetier.errors import CodetierError, ConfigError, UsageError
from codetier.providers.base import Call, Completion
from codetier.registry import OFFLINE, TIERS, Registry

MODEL_TIERS = ("fast", "balanced", "deep")
AMBIGUOUS_TASK = "implement"


@dataclass(frozen=True)
class Match:
    task: str
    triggers: tuple[str, ...]
    longest: int


def _matches(text: str, reg: Registry) -> list[Match]:
    found = []
    for task in reg.tasks.values():
        hits = tuple(t for t in task.triggers if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", text, re.I))
        if hits:
            found.append(Match(task.name, hits, max(len(h) for h in hits)))
    return sorted(found, key=lambda m: (len(m.triggers), m.longest), reverse=True)


def pick_task(text: str, reg: Registry) -> tuple[str, list[str], bool]:
    """(task, reasons, sure)."""
    found = _matches(text, reg)
    if not found:
        why = f"no trigger matched: ambiguous, so {AMBIGUOUS_TASK} at the balanced tier"
        return AMBIGUOUS_TASK, [why], False
    best = found[0]
    tied = [m for m in found[1:] if (len(m.triggers), m.longest) == (len(best.triggers), best.longest)]
    if tied:
        names = ", ".join(m.task for m in (best, *tied))
        return (
            AMBIGUOUS_TASK,
            [f"triggers tie between {names}: ambiguous, so {AMBIGUOUS_TASK} at the balanced tier"],
            False,
        )
    said = ", ".join(repr(t) for t in best.triggers)
    return best.task, [f"{best.task}: matched {said}"], True


def describe(r: Route) -> dict[str, object]:
    """The decision as plain data (for --json and the daemon)."""
    return {
        "task": r.task,
        "tier": r.tier,
        "chain": [{"tier": x.tier, "provider": x.provider, "model": x.model} for x in r.links],
        "reasons": list(r.reasons),
        "context_tokens": r.context_tokens,
    }


def links_for(chain: Sequence[str], reg: Registry) -> tuple[Link, ...]:
    out = []
    for name in chain:
        if name == OFFLINE:
            out.append(Link("tool", "offline", None))
        else:
            tier = reg.tiers[name]
            out.append(Link(name, tier.provider, tier.model))
    return tuple(out)


def _rank(tier: str) -> int:
    return TIERS.index(tier)


def _start_at(chain: tuple[str, ...], to: str) -> tuple[str, ...]:
    """The chain starting at `to`, then every tier of the chain above it (so
    `--tier fast` on a balanced task still escalates to balanced), then the
    offline draft."""
    rest = [t for t in chain if t == OFFLINE or _rank(t) > _rank(to)]
    return tuple(dict.fromkeys((to, *rest)))


def files_in_text(text: str, root: Path | None) -> list[str]:
    """Words of the request that name existing files (e.g. `format src/app.py`)."""
    base = root or Path.cwd()
    out = []
    for word in re.findall(r"[\w./-]+\.\w+", text):
        if (base / word).is_file():
            out.append(word)
    return out


def route(
    text: str,
    reg: Registry,
    *,
    files: Sequence[Path] = (),
    task: str | None = None,
    tier: str | None = None,
    model: str | None = None,
) -> Route:
    """Decide, with reasons, without calling anything."""
    if not text.strip():
        raise UsageError('say what you want done, e.g. codetier ask "explain how the router works"')
    reasons: list[str] = []
    if task is None:
        task, why, _sure = pick_task(text, reg)
        reasons += why
    spec = reg.task(task)
    chain = spec.chain
    lower = text.lower()
    if tier is not None and model is not None:
        raise UsageError("give --tier or --model, not both")
    if tier is not None:
        if tier not in reg.tiers:
            raise ConfigError("--tier", "tier", f"expected one of {', '.join(reg.tiers)}, got {tier!r}")
        if (tier == "tool") != (chain[0] == "tool"):
            kind = (
                "has a deterministic tool; it needs no model"
                if chain[0] == "tool"
                else "has no deterministic tool"
            )
            raise UsageError(f"--tier {tier}: task {task} {kind}")
        chain = _start_at(chain, tier) if tier != chain[0] else chain
        reasons.append(f"--tier {tier} chosen by you")
    elif chain[0] in MODEL_TIERS:
        risky = [w for w in reg.risk_words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lower)]
        dirs = {str(Path(f).parent) for f in files}
        if risky and chain[0] != "deep":
            up = MODEL_TIERS[MODEL_TIERS.index(chain[0]) + 1]
            chain = _start_at(chain, up)
            reasons.append(f"risk words {', '.join(risky)}: lifted to {up}")
        elif risky:
            reasons.append(f"risk words {', '.join(risky)}: already deep")
        if len(dirs) >= reg.many_modules and chain[0] != "deep":
            up = MODEL_TIERS[MODEL_TIERS.index(chain[0]) + 1]
            chain = _start_at(chain, up)
            reasons.append(f"files span {len(dirs)} modules: lifted to {up}")
    links = links_for(chain, reg)
    if model is not None:
        if not any(p.model == model for p in reg.prices):
            known = ", ".join(sorted({p.model for p in reg.prices}))
            raise UsageError(f"--model {model}: unknown model (no price in the registry); known: {known}")
        owner = next((t.name for t in reg.tiers.values() if t.model == model), "balanced")
        links = (Link(owner, "anthropic", model),)
        reasons.append(f"--model {model} chosen by you")
    context = tokens.estimate(text, *(_read(f) for f in files))
    links = _fit_window(links, context, spec.max_tokens, reg, reasons)
    reasons.append(f"context ~{context:,} tokens (local estimate), {len(files)} file(s)")
    return Route(task, links[0].tier, links, tuple(reasons), context)


def _fit_window(
    links: tuple[Link, ...], context: int, max_out: int, reg: Registry, reasons: list[str]
) -> tuple[Link, ...]:
    fits = []
    for link in links:
        model = reg.models.get(link.model) if link.model else None
        if model is None or context + max_out <= model.window:
            fits.append(link)
        else:
            reasons.append(
                f"{link.model}: window {model.window:,} < {context:,} + {max_out:,} output: skipped"
            )
    if not fits:
        windows = ", ".join(f"{link.model} {reg.models[link.model].window:,}" for link in links if link.model)
        raise CodetierError(
            f"refused: context ~{context:,} tokens + {max_out:,} output"
            f" exceeds every window in the chain ({windows})"
        )
    return tuple(fits)


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CodetierError(f"cannot read {path}: {e.strerror}") from None
    if b"\0" in data[:8192]:  # as git decides: a binary file is no context for a model
        raise UsageError(f"{path} is a binary file; name text files")
    return data.decode("utf-8", errors="replace")


def classify(text: str, reg: Registry, ctx: Context) -> tuple[str, str] | None:
    """Ask the fast tier which task type `text` is; None when it cannot say."""
    names = sorted(n for n in reg.tasks if n != "classify")
    spec = reg.task("classify")

    def build(link: Link, failures: Sequence[str]) -> Call:
        prompt = (
            "Classify this coding request into exactly one task type.\n"
            f"Task types: {', '.join(names)}\n"
            f"Request: {text}\n"
            "Answer with the task type only, nothing else."
        )
        if failures:
            prompt += "\n" + "\n".join(failures)
        return Call("classify", link.model, "You are a precise request classifier.", prompt, spec.max_tokens)

    def check(c: Completion) -> Check:
        answer = c.text.strip().strip("`'\".").lower()
        if answer in names:
            return Check(True, value=answer)
        return Check(False, f"answer {answer[:40]!r} is not one of the task types")

    try:
        result = run(Job("classify", build, check), route(text, reg, task="classify"), reg, ctx)
    except CodetierError:
        return None
    return str(result.value), f"ambiguous: the classifier ({result.link.label}) chose {result.value}"
