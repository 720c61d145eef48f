"""Where codetier keeps user state (`CODETIER_HOME` relocates all of it) and
the user config file."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path | None:
    """The directory platformdirs gives on Linux, without importing it (~8 ms, on every
    command): an absolute $XDG_* as is (a relative one is ignored, as the spec says), else
    `fallback` under an absolute $HOME. None where platformdirs has more to decide
    (another OS, no usable $HOME)."""
    if not sys.platform.startswith("linux"):
        return None
    value = os.environ.get(var, "")
    if os.path.isabs(value):
        return Path(value) / "codetier"
    home = os.environ.get("HOME", "")
    return Path(home) / fallback / "codetier" if os.path.isabs(home) else None


def home() -> Path:
    """The data directory: the ledger and the crash log live here."""
    override = os.environ.get("CODETIER_HOME")
    if override:
        return Path(override)
    linux = _xdg("XDG_DATA_HOME", ".local/share")
    if linux is not None:
        return linux
    import platformdirs

    return Path(platformdirs.user_data_dir("codetier", appauthor=False))


def user_config() -> Path:
    """The user-level config file (`$XDG_CONFIG_HOME/codetier/config.toml` on
    Linux). Settings are not state: CODETIER_HOME does not move them."""
    linux = _xdg("XDG_CONFIG_HOME", ".config")
    if linux is not None:
        return linux / "config.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("codetier", appauthor=False)) / "config.toml"


def ledger_path() -> Path:
    return home() / "ledger.db"
