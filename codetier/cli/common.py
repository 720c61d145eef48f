"""What every command needs: the effective config and registry."""

from __future__ import annotations

from pathlib import Path

from codetier import config, registry


def load(start: Path | None = None) -> tuple[config.Config, registry.Registry]:
    cfg = config.load(start)
    return cfg, registry.build(cfg)


def repo_root(cfg: config.Config) -> Path:
    return cfg.repo or Path.cwd()
