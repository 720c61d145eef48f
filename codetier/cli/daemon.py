"""`codetier daemon start|stop|status|restart`."""

from __future__ import annotations

import click

from codetier import output
from codetier.daemon import lifecycle


def _show(st: lifecycle.Status, as_json: bool) -> None:
    if as_json:
        output.emit_json(
            {"running": st.running, "pid": st.pid, "socket": st.socket, **st.info, "note": st.note}
        )
        return
    if st.running:
        repos = st.info.get("repos") or []
        cache = st.info.get("cache") or {}
        output.echo(f"codetier daemon running (pid {st.pid}, socket {st.socket})")
        output.echo(f"  uptime {st.info.get('uptime_s', 0)} s · {len(repos)} repo(s) watched")
        for repo in repos:
            output.echo(f"    {repo}")
        output.echo(
            f"  drafts: {st.info.get('drafted', 0)} made, {st.info.get('hits', 0)} used,"
            f" {cache.get('entries', 0)} cached"
        )
        worker = st.info.get("worker") or {}
        if worker.get("up"):
            output.echo(
                f"  model worker: up (pid {worker.get('pid')}), {worker.get('jobs', 0)} job(s) running"
            )
        else:
            output.echo(
                f"  model worker: not running (starts with the next draft;"
                f" stops after {worker.get('idle_s', 300):g} s idle)"
            )
    else:
        output.echo("codetier daemon not running" + (f" ({st.note})" if st.note else ""))


@click.group()
def daemon() -> None:
    """The optional background daemon: warm engine, commit messages drafted before git asks.

    One per user, on a Unix socket only you can open. It watches the git dirs
    of repos that used it and drafts the commit message when you `git add`
    (only when ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL is set: without a model
    there is nothing to draft ahead); the prepare-commit-msg hook takes the
    draft when there is one and works in-process when there is not (or no
    daemon runs). A plain `codetier audit` is answered by the daemon too, when
    it runs in the same environment: a repeat audit then skips Python's
    start-up. Nothing needs the daemon; it only makes these faster.

    `codetier spend` counts drafts made ahead and never used as waste.

    Config keys, in [daemon] of .codetier.toml or your user config:

    \b
      auto_start = false   the first hook that finds no daemon starts one
      precompute = true    draft when the staged change changes
      idle_minutes = 0     exit after this many idle minutes (0: never)
      worker_idle_s = 300  stop the model worker (the process that holds
                           the SDK) after this many seconds without work

    More in the codetier documentation (docs/daemon.md in the source).
    """


@daemon.command()
@click.option("--foreground", is_flag=True, help="Serve in this process and log to stderr (for debugging).")
@click.option(
    "--watch", "watch", multiple=True, type=click.Path(file_okay=False), help="A repo to watch now."
)
def start(foreground: bool, watch: tuple[str, ...]) -> int:
    """Start the daemon, or report the one already running."""
    if foreground:
        from codetier.daemon.__main__ import main

        return main([a for repo in watch for a in ("--watch", repo)])
    before = lifecycle.status()
    st = before if before.running else lifecycle.start(watch)
    if before.running:
        output.echo(f"codetier daemon already running (pid {st.pid}, socket {st.socket})")
    else:
        output.echo(f"codetier daemon started (pid {st.pid}, socket {st.socket})")
    return 0


@daemon.command()
def stop() -> int:
    """Stop the daemon; in-flight work finishes first."""
    st = lifecycle.stop()
    if st.pid is None:
        output.echo("codetier daemon not running" + (f" ({st.note})" if st.note else ""))
    else:
        output.echo(f"codetier daemon stopped (pid {st.pid})")
    return 0


@daemon.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> int:
    """Print whether the daemon runs, its pid, socket, watched repos and drafts.

    Exit status 0 when it runs, 1 when it does not."""
    st = lifecycle.status()
    _show(st, as_json)
    return 0 if st.running else 1


@daemon.command()
def restart() -> int:
    """Stop the daemon (if running) and start a fresh one."""
    lifecycle.stop()
    st = lifecycle.start()
    output.echo(f"codetier daemon started (pid {st.pid}, socket {st.socket})")
    return 0
