"""The router's rules over many prompts, fast.

`router.pick_task` searches every trigger of every task with a fresh regex;
over 50,000 transcript prompts that is most of an audit. This gives the same
answer (a test holds it to `pick_task` on a table of prompts): one compiled
search per task says whether any of its triggers occurs, and only tasks that
hit are counted trigger by trigger. The tier then comes from `router.route`
with the task fixed, so risk words and the chain stay the router's.
"""

from __future__ import annotations

import re

from codetier import router
from codetier.errors import CodetierError
from codetier.registry import Registry

# Prompts longer than this are cut before routing: the rules read words, and
# the window check is about the transcript's context, which we do not have.
MAX_CHARS = 4000


def _pattern(triggers: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(triggers, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)


class Classifier:
    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.tasks = [
            (task.name, _pattern(task.triggers), [(t, _pattern((t,))) for t in task.triggers])
            for task in reg.tasks.values()
            if task.triggers
        ]

    def task(self, text: str) -> str:
        """What `router.pick_task` would answer."""
        found = []
        for name, any_of, each in self.tasks:
            if any_of.search(text):
                hits = [t for t, p in each if p.search(text)]
                found.append((len(hits), max(len(h) for h in hits), name))
        if not found:
            return router.AMBIGUOUS_TASK
        found.sort(key=lambda f: (f[0], f[1]), reverse=True)
        if len(found) > 1 and found[1][:2] == found[0][:2]:
            return router.AMBIGUOUS_TASK
        return found[0][2]

    def route(self, text: str) -> tuple[str, str]:
        """(task, tier) for a prompt, as `codetier route` would decide it offline."""
        text = text[:MAX_CHARS]
        task = self.task(text)
        try:
            return task, router.route(text, self.reg, task=task).tier
        except CodetierError:
            return task, "deep"
