"""The server object: the pygls LanguageServer plus what lives as long as the
session does (config and registry per repository, review diagnostics)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codetier_lsp import settings
from codetier_lsp.settings import Settings
from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codetier import __version__, config, paths, registry
from codetier.config import Config
from codetier.registry import Registry


@dataclass(frozen=True)
class Loaded:
    """A repository's effective config, registry and server settings."""

    cfg: Config
    reg: Registry
    settings: Settings


class CodetierServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "codetier", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.session = "lsp-" + uuid.uuid4().hex[:12]
        self.init_options: Mapping[str, Any] = {}
        self.reviews: dict[str, list[types.Diagnostic]] = {}
        self.reported: set[str] = set()  # config errors already shown
        self._loaded: dict[Path, tuple[tuple[float, ...], Loaded]] = {}
        self._roots: dict[Path, Path] = {}

    def root_for(self, path: Path) -> Path:
        """The repository a file belongs to (cached per directory)."""
        folder = path.parent
        root = self._roots.get(folder)
        if root is None:
            root = config.find_repo_root(folder) or self._workspace_root() or folder
            self._roots[folder] = root
        return root

    def _workspace_root(self) -> Path | None:
        try:
            root = self.workspace.root_path
        except RuntimeError:
            return None
        return Path(root) if root else None

    def loaded(self, root: Path) -> Loaded:
        """Config, registry and settings for `root`, reloaded when a config file changes."""
        key = tuple(
            _mtime(p) for p in (paths.user_config(), root / "pyproject.toml", root / ".codetier.toml")
        )
        hit = self._loaded.get(root)
        if hit is not None and hit[0] == key:
            return hit[1]
        cfg = config.load(root)
        value = Loaded(cfg, registry.build(cfg), settings.load(cfg, self.init_options))
        self._loaded[root] = (key, value)
        return value

    def forget_config(self) -> None:
        self._loaded.clear()
        self.reported.clear()

    def supports(self, dotted: str) -> bool:
        """Whether the client declared a capability, e.g. "window.work_done_progress"."""
        node: Any = self.client_capabilities
        for part in dotted.split("."):
            node = getattr(node, part, None)
            if node is None:
                return False
        return bool(node)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
