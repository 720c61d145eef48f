"""Where codetier keeps user state (`CODETIER_HOME` relocates all of it) and
the user config file."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The data directory: the ledger and the crash log live here."""
    override = os.environ.get("CODETIER_HOME")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("codetier", appauthor=False))


def user_config() -> Path:
    """The user-level config file (`$XDG_CONFIG_HOME/codetier/config.toml` on
    Linux). Settings are not state: CODETIER_HOME does not move them."""
    import platformdirs

    return Path(platformdirs.user_config_dir("codetier", appauthor=False)) / "config.toml"


def ledger_path() -> Path:
    return home() / "ledger.db"
