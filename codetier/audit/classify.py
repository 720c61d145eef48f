r"""The router's rules over many prompts, fast.

`router.pick_task` searches every trigger of every task with a fresh regex;
over the prompts of a year of transcripts, each one a different text, that
would be most of an audit. This gives the same answer (a test holds it to
`pick_task` on a table of prompts, and a test of its own to the regex):

- ASCII text is lower-cased (re.I and str.lower agree on ASCII) and split into
  its words, the runs of \w, by `str.translate` and `str.split` in C. A
  one-word trigger matches when it is one of those words (no word character
  either side, by construction); which of them do is one set intersection.
  A longer trigger ("commit message", "cross-module") is looked for with
  `str.find` only when all its words are there, and must have no word
  character either side (re's \w is what `str.isalnum` or "_" says).
- Other text takes the regex path: one compiled search per task says whether
  any of its triggers occurs, and only tasks that hit are counted trigger by
  trigger.

About 2x faster than a regex per trigger for a short prompt, 3x for 4,000 characters.
The tier follows `router.route`: the task's first tier, lifted by a risk word
(the same test holds it to `route`).
"""

from __future__ import annotations

import functools
import re

from codetier.registry import Registry

# AMBIGUOUS_TASK and MODEL_TIERS, held equal by a test: importing the
# router pulls in the engine, which a repeat audit has no other use for.
AMBIGUOUS_TASK = "implement"
MODEL_TIERS = ("fast", "balanced", "deep")

# Prompts longer than this are cut before routing: the rules read words, and
# the window check is about the transcript's context, which we do not have.
MAX_CHARS = 4000


@functools.cache  # compiled when first needed: most triggers never are in a short run
def _pattern(triggers: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(t) for t in sorted(triggers, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)


def has_word(text: str, word: str) -> bool:
    r"""Whether `word` occurs in `text` with no word character either side: what
    `re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)` says, without the regex."""
    n, end, i = len(word), len(text), text.find(word)
    while i >= 0:
        j = i + n
        if (i == 0 or not _word_char(text[i - 1])) and (j == end or not _word_char(text[j])):
            return True
        i = text.find(word, i + 1)
    return False


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _ascii(trigger: str) -> str:
    """What the lower-cased text must contain for the trigger to match; "" (always
    contained) for a non-ASCII trigger, which re.I may fold differently."""
    return trigger.lower() if trigger.isascii() else ""


# Every ASCII character but [a-z0-9_] to a space: the words of lower-cased ASCII text are
# then what str.split() gives.
_SPACES = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")})


def _words(lower: str) -> list[str]:
    return lower.translate(_SPACES).split()


class Classifier:
    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.tasks = [
            (task.name, task.triggers, [(t, _ascii(t)) for t in task.triggers])
            for task in reg.tasks.values()
            if task.triggers
        ]
        # ASCII triggers: one word -> its (task, trigger)s.
        self.one_word: dict[str, list[tuple[str, str]]] = {}
        # Longer ones by their first word: only those whose first word is in the prompt are tried.
        self.phrases: dict[str, list[tuple[str, str, str, frozenset[str]]]] = {}
        self.other: list[tuple[str, str]] = []
        for name, _, each in self.tasks:
            for t, low in each:
                words = _words(low)
                if not low or not words:  # non-ASCII, or no word in it: by regex
                    self.other.append((name, t))
                elif words == [low]:
                    self.one_word.setdefault(low, []).append((name, t))
                else:
                    self.phrases.setdefault(words[0], []).append((name, t, low, frozenset(words)))
        # Risk words, and whether each is one plain word (then the prompt's words tell).
        self.risky = [(w, _words(w) == [w]) for w in reg.risk_words]

    def task(self, text: str) -> str:
        """What `router.pick_task` would answer."""
        return self._task(text)[0]

    def _task(self, text: str) -> tuple[str, str, set[str] | None]:
        """The task, the lower-cased text, and its words when it is ASCII."""
        hits: dict[str, list[str]] = {}
        lower, words = text.lower(), None
        if text.isascii():
            words = set(_words(lower))
            for word in words.intersection(self.one_word):
                for name, t in self.one_word[word]:
                    hits.setdefault(name, []).append(t)
            for first in words.intersection(self.phrases):
                for name, t, low, parts in self.phrases[first]:
                    if parts <= words and has_word(lower, low):
                        hits.setdefault(name, []).append(t)
            for name, t in self.other:
                if _pattern((t,)).search(text):
                    hits.setdefault(name, []).append(t)
        else:
            for name, triggers, each in self.tasks:
                if _pattern(triggers).search(text):
                    hits[name] = [t for t, _ in each if _pattern((t,)).search(text)]
        found = [(len(h), max(len(t) for t in h), name) for name, h in hits.items() if h]
        if not found:
            return AMBIGUOUS_TASK, lower, words
        found.sort(key=lambda f: (f[0], f[1]), reverse=True)
        if len(found) > 1 and found[1][:2] == found[0][:2]:
            return AMBIGUOUS_TASK, lower, words
        return found[0][2], lower, words

    def route(self, text: str) -> tuple[str, str]:
        """(task, tier) for a prompt, as `router.route` decides it offline with no
        files named: the task's first tier, lifted one model tier by a risk word."""
        task, lower, words = self._task(text[:MAX_CHARS])
        tier = self.reg.task(task).chain[0]
        if tier in MODEL_TIERS and tier != "deep":
            for w, plain in self.risky:
                if w in words if plain and words is not None else has_word(lower, w):
                    tier = MODEL_TIERS[MODEL_TIERS.index(tier) + 1]
                    break
        return task, tier
