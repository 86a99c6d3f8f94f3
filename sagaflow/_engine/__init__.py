"""Temporal: embedded server, client, worker, plugin, interceptors and the per-run control plane (private)."""
