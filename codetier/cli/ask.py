from __future__ import annotations

import click

from codetier import chores, engine, output, router
from codetier.cli.common import load, repo_root
from codetier.cli.route import files_of, show
from codetier.engine import Route
from codetier.plan import PLANNED_TASKS
from codetier.registry import Registry
from codetier.router import describe


def estimate_range(r: Route, reg: Registry, text_tokens: int) -> tuple[int, int]:
    """Cheapest and dearest outcome: the first link with no output, up to
    every link at max_tokens (each escalation re-sends the prompt)."""
    spec = reg.task(r.task)
    from codetier.pricing import Usage, cost_for

    low = cost_for(reg, r.links[0].model, Usage(input=text_tokens))
    high = sum(
        cost_for(reg, link.model, Usage(input=text_tokens, output=spec.max_tokens)) for link in r.links
    )
    return low, high


@click.command()
@click.argument("text")
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A file the request is about (repeatable).",
)
@click.option("--tier", type=click.Choice(["tool", "fast", "balanced", "deep"]), help="Start at this tier.")
@click.option("--model", help="Use exactly this model.")
@click.option("--dry-run", is_flag=True, help="Print the route and an estimated cost range; call nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--apply", is_flag=True, help="Planned tasks: write the checked change (all or nothing).")
@click.option("--force", is_flag=True, help="With --apply: overwrite files that have uncommitted changes.")
def ask(
    text: str,
    files: tuple[str, ...],
    tier: str | None,
    model: str | None,
    dry_run: bool,
    as_json: bool,
    apply: bool,
    force: bool,
) -> None:
    """Route TEXT to the cheapest capable tier, run it, check it and record it."""
    cfg, reg = load()
    root = repo_root(cfg)
    paths = files_of(text, files, root)
    ctx = engine.Context(source="cli", repo=str(root))
    r = router.route(text, reg, files=paths, tier=tier, model=model)
    sure = router.pick_task(text, reg)[2]
    if not sure and tier is None and model is None and not dry_run and reg.classifier:
        from codetier.providers.keys import credentials

        if credentials() is not None:
            picked = router.classify(text, reg, ctx)
            if picked is not None:
                r = router.route(text, reg, files=paths, task=picked[0])
                r = Route(r.task, r.tier, r.links, (picked[1], *r.reasons), r.context_tokens)
    if dry_run:
        low, high = estimate_range(r, reg, r.context_tokens)
        planned = r.task in PLANNED_TASKS
        note = "the plan call only; its subtasks then run on cheaper tiers" if planned else ""
        if as_json:
            output.emit_json({**describe(r), "estimate_micros": [low, high], "estimate_note": note})
        else:
            show(r)
            output.echo(
                f"estimate: {output.usd(low)} to {output.usd(high)}"
                " (input counted locally; output up to max_tokens)"
            )
            if note:
                output.echo(f"          {note}")
        return
    if r.task in PLANNED_TASKS:  # plan → execute; the tree is touched only with --apply
        from codetier.plan import command

        command.run(text, r, reg, cfg, root, paths, ctx, apply=apply, force=force, as_json=as_json)
        return
    writes = r.task == "rename"  # renames write through the same undoable transaction
    if apply or (force and not writes):
        output.err(f"note: --apply and --force apply to plan → execute tasks; {r.task} ignores them")
    chore = chores.get(r.task)
    req = chores.Request(text=text, root=root, files=paths, options={"force": force})
    result = engine.run(chore.job(req, reg), r, reg, ctx)
    for warning in result.warnings:  # e.g. a budget step-down
        output.err(f"codetier: warning: {warning}")
    shown = chore.finish(req, result)
    if as_json:
        output.emit_json(
            {
                **describe(r),
                "request_id": result.request_id,
                "output": shown,
                "served_by": {"tier": result.link.tier, "model": result.link.model},
                "cost_micros": result.cost_micros,
                "attempts": [a.line() for a in result.attempts],
            }
        )
        return
    output.echo(shown)
    escalated = len(result.attempts) > 1
    note = f" after {len(result.attempts)} attempts" if escalated else ""
    link = result.link
    served = link.tier if link.label == link.tier else f"{link.tier}:{link.label}"
    output.err(f"[{r.task} · {served} · {output.usd(result.cost_micros)}{note}]")
