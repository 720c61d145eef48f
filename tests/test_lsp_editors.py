"""The editor setups in lsp/ start `codetier lsp` and name the settings the server reads."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

from codetier_lsp.settings import Settings

LSP = Path(__file__).parent.parent / "lsp"
KEYS = {f.name for f in dataclasses.fields(Settings)}


def test_vscode_extension_starts_codetier_lsp() -> None:
    manifest = json.loads((LSP / "vscode" / "package.json").read_text())
    script = (LSP / "vscode" / "extension.js").read_text()
    assert (LSP / "vscode" / manifest["main"]).is_file()
    assert "onLanguage:python" in manifest["activationEvents"]
    assert 'args: ["lsp"]' in script and "codetier.refactor" in script
    settings = {k.removeprefix("codetier.") for k in manifest["contributes"]["configuration"]["properties"]}
    assert settings == KEYS | {"path"}


def test_neovim_snippet_uses_vim_lsp_start() -> None:
    lua = (LSP / "neovim" / "codetier.lua").read_text()
    assert "vim.lsp.start(" in lua and 'cmd = { "codetier", "lsp" }' in lua


def test_helix_languages_toml_registers_the_server() -> None:
    config = tomllib.loads((LSP / "helix" / "languages.toml").read_text())
    server = config["language-server"]["codetier"]
    assert (server["command"], server["args"]) == ("codetier", ["lsp"])
    assert set(server["config"]["codetier"]) <= KEYS
    python = next(lang for lang in config["language"] if lang["name"] == "python")
    assert "codetier" in python["language-servers"]


def test_readme_shows_each_editor() -> None:
    readme = (LSP / "README.md").read_text()
    for name in ("VS Code", "Neovim", "Helix", "codetier lsp"):
        assert name in readme
