from codetier.cli import console

raise SystemExit(console())
