"""The command line: every command of ``sagaflow`` (kept import-free so the launch fast path stays cheap)."""
