"""Secrets never leave the machine: scan and redact text before a model call.

The engine runs every prompt bound for a model through `redact`; the ledger
notes that a redaction happened (never what was redacted).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

PLACEHOLDER = "[REDACTED:{kind}]"

# (kind, pattern). Whole-match redaction; order matters (specific first).
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?"
            r"(-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
            re.S,
        ),
    ),
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{10,}")),
    ("openai_key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")),
    (
        "aws_secret_key",
        re.compile(r"(?i)(aws_?secret_?(?:access_?)?key\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{40})"),
    ),
    ("gcp_api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("gcp_service_account", re.compile(r"\"private_key_id\"\s*:\s*\"[0-9a-f]{40}\"")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}\b")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+")),
    ("stripe_key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36,}\b")),
    ("sendgrid_key", re.compile(r"\bSG\.[\w\-]{16,}\.[\w\-]{16,}")),
    ("jwt", re.compile(r"\beyJ[\w\-]{8,}\.eyJ[\w\-]{8,}\.[\w\-]{8,}")),
    ("bearer_token", re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9\-._~+/]{20,}=*)")),
    # scheme://user:password@host: keep the user, drop the password.
    ("url_password", re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']*:)([^\s@/\"'{}]+)(?=@)")),
)
# Kinds whose pattern keeps group 1 (a label) and redacts group 2.
KEEP_LEAD = frozenset({"aws_secret_key", "bearer_token", "url_password"})

# name = value where the name says secret and the value looks random; a quoted
# value runs to its closing quote (so "k3#x!9" loses its tail too).
ASSIGNMENT = re.compile(
    r"(?i)(?P<lead>(?<![\w.\-])(?:export\s+)?[\"']?[\w.\-]*"
    r"(?:password|passwd|pwd|secret|token|api_?key|apikey|access_?key|private_?key|credential)"
    r"[\w.\-]*[\"']?\s*[:=]\s*)"
    r"(?:(?P<q>[\"'])(?P<quoted>[^\"'\s]{8,})(?P=q)|(?P<value>[^\s\"'#,;]{8,}))"
)
ENV_FILE = re.compile(r"(?:^|/)\.env(?:\.[\w.-]+)?$|(?:^|/)[\w.-]+\.env$")


@dataclass(frozen=True)
class Redaction:
    text: str
    count: int
    kinds: tuple[str, ...]


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _looks_secret(value: str) -> bool:
    if value.lower() in {"none", "null", "true", "false", "changeme", "password", "example"}:
        return False
    if re.fullmatch(r"[A-Za-z_][\w.]*", value) and not re.search(r"\d", value):
        return False  # an identifier, not a literal secret
    if re.match(r"[A-Za-z_][\w.]*[(\[]", value):
        return False  # a call or a subscript: code, not a literal
    return len(value) >= 8 and entropy(value) >= 3.0


def is_env_file(path: str) -> bool:
    """`.env`-style files are redacted whole, value by value."""
    return bool(ENV_FILE.search(path)) and not path.endswith((".example", ".sample", ".template"))


def redact(text: str) -> Redaction:
    """Replace every secret-shaped value with a placeholder naming its kind."""
    kinds: list[str] = []

    for kind, pattern in PATTERNS:

        def repl(m: re.Match[str], kind: str = kind) -> str:
            kinds.append(kind)
            if kind in KEEP_LEAD:
                return m.group(1) + PLACEHOLDER.format(kind=kind)
            return PLACEHOLDER.format(kind=kind)

        text = pattern.sub(repl, text)

    def assign(m: re.Match[str]) -> str:
        quote = m.group("q") or ""
        value = m.group("quoted") if quote else m.group("value")
        if "[REDACTED:" in value or not _looks_secret(value):
            return m.group(0)
        kinds.append("assigned_secret")
        return m.group("lead") + quote + PLACEHOLDER.format(kind="assigned_secret") + quote

    text = ASSIGNMENT.sub(assign, text)
    return Redaction(text, len(kinds), tuple(dict.fromkeys(kinds)))


def redact_env_file(text: str) -> Redaction:
    """Every value in a `.env` file goes, whatever it looks like."""
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return m.group(1) + PLACEHOLDER.format(kind="env_value")

    out = re.sub(r"(?m)^(\s*(?:export\s+)?[A-Za-z_][\w.]*\s*=\s*).+$", repl, text)
    return Redaction(out, count, ("env_value",) if count else ())
