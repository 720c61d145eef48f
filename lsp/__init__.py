"""The codetier language server (`codetier lsp`): tiered code actions, rename and formatting."""
