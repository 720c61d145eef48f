"""Thin wrappers over deterministic tools: ruff, rope and git."""
