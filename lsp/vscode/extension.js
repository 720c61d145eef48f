// A minimal VS Code client for `codetier lsp`: starts the server over stdio for
// Python files, passes the `codetier.*` settings as initializationOptions, and
// asks for the instruction of "Refactor across modules…" before running it.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function settings() {
  const c = vscode.workspace.getConfiguration("codetier");
  return {
    tests_dir: c.get("tests_dir"),
    fix_with_model: c.get("fix_with_model"),
    explain_in: c.get("explain_in"),
    test_python: c.get("test_python"),
  };
}

async function activate(context) {
  const command = vscode.workspace.getConfiguration("codetier").get("path", "codetier");
  const serverOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    initializationOptions: { codetier: settings() },
    middleware: {
      executeCommand: async (name, args, next) => {
        if (name === "codetier.refactor" && args.length && !args[0].instruction) {
          const instruction = await vscode.window.showInputBox({
            prompt: "Refactor across modules: what should change?",
            placeHolder: "e.g. move the storage helpers into storage/ and update every import",
          });
          if (!instruction) {
            return undefined;
          }
          args = [{ ...args[0], instruction }];
        }
        return next(name, args);
      },
    },
  };
  client = new LanguageClient("codetier", "codetier", serverOptions, clientOptions);
  await client.start();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("codetier") && client) {
        client.sendNotification("workspace/didChangeConfiguration", { settings: { codetier: settings() } });
      }
    })
  );
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
