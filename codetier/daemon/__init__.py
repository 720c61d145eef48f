"""The optional background daemon: one per user on a private Unix socket.

It keeps the engine warm, watches the git dirs of repos that used it, and
drafts commit messages before git asks. Every entry point works without it.
`client` is the cheap side (socket + json) that hooks import; the rest runs
in the daemon process.
"""
