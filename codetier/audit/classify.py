r"""The router's rules over many prompts, fast.

`router.pick_task` searches every trigger of every task with a fresh regex;
over the prompts of a year of transcripts, each one a different text, that
would be most of an audit. This gives the same answer (a test holds it to
`pick_task` on a table of prompts, and a test of its own to the regex):

- ASCII text is split into its words, the runs of \w, lower-cased, by
  `bytes.translate` and `bytes.split` in C (re.I and str.lower agree on
  ASCII). Only the words some rule looks for are kept: one set intersection.
  A one-word trigger matches when it is one of them (no word character either
  side, by construction). A longer trigger ("commit message", "cross-module")
  is looked for with `str.find` only when all its words are there, and must
  have no word character either side (re's \w is what `str.isalnum` or "_"
  says).
- Other text takes the regex path: one compiled search per task says whether
  any of its triggers occurs, and only tasks that hit are counted trigger by
  trigger.

On this machine: 6 us for a 53-character prompt where `pick_task` takes 200,
43 us against 5,600 for 4,000 characters; over the audit bench's prompts,
15 us a prompt against 22 for the str-based version before this one.
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


# Every ASCII byte but [A-Za-z0-9_] to a space, and A-Z to a-z: the words of ASCII text,
# lower-cased, are then what bytes.split() gives, all in C.
_WORDS = bytes(
    (c | 0x20 if 65 <= c <= 90 else c) if chr(c).isalnum() or c == 95 else 32 for c in range(128)
) + bytes(range(128, 256))  # never met: non-ASCII text takes the regex path


def _words(lower: str) -> list[bytes]:
    return lower.encode().translate(_WORDS).split()


def _count(scores: dict[str, tuple[int, int]], task: str, length: int) -> None:
    """One more trigger of `task` hit; keep the longest's length."""
    s = scores.get(task)
    scores[task] = (1, length) if s is None else (s[0] + 1, max(s[1], length))


class Classifier:
    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.tasks = [
            (task.name, task.triggers, [(t, _ascii(t)) for t in task.triggers])
            for task in reg.tasks.values()
            if task.triggers
        ]
        # ASCII triggers: one word -> its (task, trigger length)s.
        self.one_word: dict[bytes, list[tuple[str, int]]] = {}
        # Longer ones by their first word: only those whose first word is in the prompt are tried.
        self.phrases: dict[bytes, list[tuple[str, int, str, frozenset[bytes]]]] = {}
        self.other: list[tuple[str, str]] = []
        for name, _, each in self.tasks:
            for t, low in each:
                words = _words(low) if low else []
                if not words:  # non-ASCII, or no word in it: by regex
                    self.other.append((name, t))
                elif len(words) == 1 and words[0] == low.encode():
                    self.one_word.setdefault(words[0], []).append((name, len(t)))
                else:
                    self.phrases.setdefault(words[0], []).append((name, len(t), low, frozenset(words)))
        # Risk words, and whether each is one plain word (then the prompt's words tell).
        self.risky = [
            (w, w.encode() if w.isascii() and _words(w) == [w.encode()] else None) for w in reg.risk_words
        ]
        # Every word the rules look for: a prompt's other words are dropped at once.
        self.known = frozenset(
            [*self.one_word, *(p for ps in self.phrases.values() for _, _, _, parts in ps for p in parts)]
            + [plain for _, plain in self.risky if plain is not None]
        )

    def task(self, text: str) -> str:
        """What `router.pick_task` would answer."""
        return self._task(text)[0]

    def _task(self, text: str) -> tuple[str, str, frozenset[bytes] | None]:
        """The task, the lower-cased text, and which known words it holds when it is ASCII."""
        lower, found = text.lower(), None
        # task -> (triggers hit, the longest's length), as router.pick_task ranks them
        scores: dict[str, tuple[int, int]] = {}
        if text.isascii():
            found = self.known.intersection(_words(text))
            for word in found:
                for name, n in self.one_word.get(word, ()):
                    _count(scores, name, n)
                for name, n, low, parts in self.phrases.get(word, ()):
                    if parts <= found and has_word(lower, low):
                        _count(scores, name, n)
            for name, t in self.other:
                if _pattern((t,)).search(text):
                    _count(scores, name, len(t))
        else:
            for name, triggers, each in self.tasks:
                if _pattern(triggers).search(text):
                    hits = [len(t) for t, _ in each if _pattern((t,)).search(text)]
                    if hits:
                        scores[name] = (len(hits), max(hits))
        if not scores:
            return AMBIGUOUS_TASK, lower, found
        top = max(scores.values())
        winners = [name for name, s in scores.items() if s == top]
        return (winners[0] if len(winners) == 1 else AMBIGUOUS_TASK), lower, found

    def route(self, text: str) -> tuple[str, str]:
        """(task, tier) for a prompt, as `router.route` decides it offline with no
        files named: the task's first tier, lifted one model tier by a risk word."""
        task, lower, found = self._task(text[:MAX_CHARS])
        tier = self.reg.task(task).chain[0]
        if tier in MODEL_TIERS and tier != "deep":
            for w, plain in self.risky:
                if plain in found if plain is not None and found is not None else has_word(lower, w):
                    tier = MODEL_TIERS[MODEL_TIERS.index(tier) + 1]
                    break
        return task, tier
