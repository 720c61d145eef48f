"""Secrets never leave the machine: the scanner, and proofs through the stub.

Fake secrets are assembled at run time so no secret-shaped literal sits in
the repository for scanners to trip on.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import git
from hooks_support import commit, last_message, write
from stub_api import Reply, StubAPI

from codetier import cli, config, registry
from codetier.chores import commit_message as cm
from codetier.redact import PLACEHOLDER, is_env_file, redact, redact_env_file

AWS_ID = "AKIA" + "Z7Q3X9LMN2P4R6T8"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzq81LKEYab12"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA7V" + "q3x9Zk2m8Qw1Lr4Tn6Yp0sDf5Gh7Jk9Lz\n"
    "Xc2Vb4Nm6Aq8Sw0Ed3Rf5Tg7Yh9Uj1Ik3Ol5Pz7Xc9Vb1Nm3Aq5Sw7Ed\n"
    "-----END RSA PRIVATE KEY-----"
)
PEM_MARKER = "q3x9Zk2m8Qw1Lr4Tn6Yp0sDf5Gh7Jk9Lz"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("SECRET_KEY = 'django-insecure-" + "k3#x!9p@m2$w8&z'", "k3#x!9p@m2$w8&z"),
        ('"password": "Xk9#mP2' + '$vL8@qR5!"', "Xk9#mP2$vL8@qR5!"),
        ('settings = {"api_key": "AbCdEf01' + '23456789XyZ"}', "AbCdEf0123456789XyZ"),
        ("DATABASE_URL=postgresql://app:hunter2" + "Xq81@localhost/db", "hunter2Xq81"),
        ('url = "redis://:p4ssW0rd' + 'Zq9@cache:6379/0"', "p4ssW0rdZq9"),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N",
            "dozjgNryP4J3",
        ),
        ("HF=hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"),
        (
            "//registry.npmjs.org/:_authToken=npm_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
            "AbCdEfGhIjKlMnOpQrStUvWxYz",
        ),
    ],
)
def test_no_part_of_a_secret_survives(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out.text
    assert out.count >= 1
    for piece in (secret[:6], secret[-6:]):
        assert piece not in out.text


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        (f"key = '{AWS_ID}'", "aws_access_key", AWS_ID),
        (f"aws_secret_access_key = {AWS_SECRET}", "aws_secret_key", AWS_SECRET),
        (PEM, "private_key", PEM_MARKER),
        (
            "k = 'AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q'",
            "gcp_api_key",
            "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        ),
        (
            "GH=ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
            "github_token",
            "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        ),
        ("t = glpat-" + "Ab3dE6gH9jK2mN5pQ8sT", "gitlab_token", "Ab3dE6gH9jK2mN5pQ8sT"),
        ("xoxb-" + "123456789012-abcdefABCDEF", "slack_token", "123456789012-abcdefABCDEF"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "stripe_key", "4eC39HqLyjWDarjtT1zdp7dc"),
        ("ANTHROPIC=sk-ant-" + "api03-Xy7Zq2Wv9Ut4Sr1Qp8", "anthropic_key", "api03-Xy7Zq2Wv9Ut4Sr1Qp8"),
        ("OPENAI=sk-proj-" + "Ab12Cd34Ef56Gh78Ij90Kl12", "openai_key", "Ab12Cd34Ef56Gh78Ij90Kl12"),
        ("+    db_password = 'x9$Lq2!vR7#mK4pZ'", "assigned_secret", "x9$Lq2!vR7#mK4pZ"),
        ('  "api_token": "Zx81Qw7eRt6yUi5o",', "assigned_secret", "Zx81Qw7eRt6yUi5o"),
    ],
)
def test_each_secret_shape_is_redacted_and_named(text: str, kind: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out.text
    assert PLACEHOLDER.format(kind=kind) in out.text
    assert kind in out.kinds and out.count >= 1


@pytest.mark.parametrize(
    "text",
    [
        "token_count = compute_tokens(text)",
        "password = None",
        "PASSWORD_MIN_LENGTH = 8",
        "secret = settings.secret_key",
        "commit 3f2a9c1b7e5d4f6a8b0c2d4e6f8a0b2c4d6e8f0a",
        "def get_token(self) -> str:",
        'url = f"postgres://{user}:{password}@{host}/db"',
        'headers = {"Authorization": f"Bearer {token}"}',
        'TOKEN_HELP = "the token to use for the registry"',
    ],
)
def test_ordinary_code_is_left_alone(text: str) -> None:
    assert redact(text).text == text


def test_env_files_lose_every_value() -> None:
    assert is_env_file(".env") and is_env_file("config/.env.production") and is_env_file("prod.env")
    assert not is_env_file(".env.example") and not is_env_file("envelope.py")
    out = redact_env_file("HOST=localhost\nexport PORT=5432\n# comment\n")
    assert "localhost" not in out.text and "5432" not in out.text and "# comment" in out.text
    assert out.count == 2


def staged_secrets(repo: Path) -> Path:
    write(repo, "README.md", "# demo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "docs: start")
    write(
        repo,
        "deploy/settings.py",
        f"AWS_ACCESS_KEY_ID = '{AWS_ID}'\naws_secret_access_key = '{AWS_SECRET}'\n",
    )
    write(repo, "deploy/id_rsa", PEM + "\n")
    write(repo, ".env", "DATABASE_URL=postgres://admin:plainpass@db/prod\n")
    git(repo, "add", ".")
    return repo


def assert_never_sent(stub: StubAPI) -> None:
    assert stub.calls >= 1
    for request in stub.requests:
        raw = str(request.body)
        for secret in (AWS_ID, AWS_SECRET, PEM_MARKER, "plainpass"):
            assert secret not in raw


def test_a_staged_aws_key_and_private_key_never_reach_the_model(
    repo: Path, stub: StubAPI, isolated: Path
) -> None:
    staged_secrets(repo)
    stub.script(Reply("chore(deploy): add deployment settings"))
    cfg = config.load(repo)
    done = cm.compose(repo, cfg, registry.build(cfg))
    assert done.message == "chore(deploy): add deployment settings"
    assert_never_sent(stub)
    text = stub.requests[0].text
    assert "[REDACTED:aws_access_key]" in text and "[REDACTED:private_key]" in text
    assert ".env: environment file (values never shown) added" in text
    db = sqlite3.connect(isolated / "codetier" / "ledger.db")
    assert db.execute("SELECT redacted FROM attempts").fetchall() == [(1,)]


def test_nor_through_a_real_commit_and_the_plain_hook(repo: Path, stub: StubAPI) -> None:
    staged_secrets(repo)
    stub.script(Reply("chore(deploy): add deployment settings"))
    assert cli.main(["hooks", "install"]) == 0
    commit(repo)
    assert last_message(repo) == "chore(deploy): add deployment settings"
    assert_never_sent(stub)


def test_nor_through_a_changelog_entry(repo: Path, stub: StubAPI) -> None:
    staged_secrets(repo)
    stub.script(Reply("Added: Deployment settings."))
    assert cli.main(["changelog", "--entry"]) == 0
    assert_never_sent(stub)


def test_a_retry_after_a_failed_check_is_redacted_too(repo: Path, stub: StubAPI) -> None:
    staged_secrets(repo)
    # a rejected answer is quoted in the retry prompt: the key must be redacted there too
    stub.script(Reply(f"Here is {AWS_ID} rotated"), model="claude-haiku-5-5")
    stub.script(Reply("chore(deploy): add settings"), model="claude-sonnet-5-5")
    cfg = config.load(repo)
    cm.compose(repo, cfg, registry.build(cfg))
    assert_never_sent(stub)
