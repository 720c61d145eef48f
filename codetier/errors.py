"""The user-facing exception tree.

    CodetierError            a problem the user can act on: exit 1, one line
    ├── UsageError           bad input, config or environment: exit 2
    │   ├── ConfigError      names the file, the key and what was expected
    │   └── NoKeyError       a model is needed and no key is set
    ├── BudgetRefused        a budget would be exceeded
    └── AllAttemptsFailed    every link of a route failed (carries the attempts)

Anything else is a bug: exit 3 and a crash log (see cli.errors).
"""

from __future__ import annotations


class CodetierError(Exception):
    """An error with a message meant for the user."""

    exit_code = 1


class UsageError(CodetierError):
    exit_code = 2


class ConfigError(UsageError):
    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key = source, key
        super().__init__(f"{source}: {key}: {message}")


class NoKeyError(UsageError):
    def __init__(self, what: str = "this task") -> None:
        super().__init__(
            f"{what} needs a model: set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a proxy);"
            " tool-tier tasks work without one"
        )


class BudgetRefused(CodetierError):
    def __init__(self, budget: str, limit_micros: int, estimate_micros: int) -> None:
        self.budget = budget
        self.limit_micros, self.estimate_micros = limit_micros, estimate_micros
        over = estimate_micros - limit_micros
        super().__init__(
            f"{budget} budget ${limit_micros / 1e6:.4f} would be exceeded: "
            f"estimate ${estimate_micros / 1e6:.4f} (over by ${max(over, 0) / 1e6:.4f})"
        )


class AllAttemptsFailed(CodetierError):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("every attempt failed:\n" + "\n".join(f"  {line}" for line in lines))
