-- codetier language server for Neovim (>= 0.11): put this in your init.lua,
-- or save it as ~/.config/nvim/plugin/codetier.lua.
vim.api.nvim_create_autocmd("FileType", {
  pattern = "python",
  callback = function(args)
    vim.lsp.start({
      name = "codetier",
      cmd = { "codetier", "lsp" },
      root_dir = vim.fs.root(args.buf, { ".git", "pyproject.toml", ".codetier.toml" }),
      init_options = { codetier = { explain_in = "document", tests_dir = "tests" } },
    })
  end,
})

-- "Refactor across modules…" asks what to change before the server runs it.
vim.lsp.commands["codetier.refactor"] = function(command, ctx)
  local arg = vim.deepcopy(command.arguments[1])
  vim.ui.input({ prompt = "Refactor across modules: " }, function(text)
    if not text or text == "" then
      return
    end
    arg.instruction = text
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    client:request("workspace/executeCommand", { command = command.command, arguments = { arg } }, nil, ctx.bufnr)
  end)
end

-- Actions: vim.lsp.buf.code_action()  (default mapping: gra)
-- Rename:  vim.lsp.buf.rename()       (default mapping: grn)
-- Format:  vim.lsp.buf.format({ name = "codetier" })
