"""`codetier audit`: Claude Code transcripts read, deduplicated, priced and routed."""
