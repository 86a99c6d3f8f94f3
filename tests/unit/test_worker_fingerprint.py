"""A worker's fingerprint covers every setting the worker reads once at start.

A launch replaces a live build worker whose recorded fingerprint differs; a setting
the worker reads at start but the fingerprint leaves out would leave a stale worker
serving with the old value (found for ``payloads.store_above_kib``).
"""

from __future__ import annotations

import dataclasses

import pytest

from sagaflow._engine.daemon import expected_fingerprint
from sagaflow.config import Settings

CHANGES = {
    "plugins": ("mod:Plugin",),
    "otel": True,
    "plugin_seconds": 9.0,
    "payload_store_bytes": 1024,
    "heartbeat_seconds": 7.0,
    "worker_idle_seconds": 5.0,
    "worker_shutdown_seconds": 1.0,
    "slack_webhook_url": "https://hooks.example/x",
    "task_queue": "other-queue",
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_each_start_time_setting_changes_the_fingerprint(field: str) -> None:
    base = Settings()
    value = CHANGES[field]
    if field == "plugins" and isinstance(getattr(base, field), list):
        value = list(value)
    changed = dataclasses.replace(base, **{field: value})
    assert expected_fingerprint(changed, "b1") != expected_fingerprint(base, "b1")


def test_same_settings_same_fingerprint() -> None:
    assert expected_fingerprint(Settings(), "b1") == expected_fingerprint(Settings(), "b1")
    assert expected_fingerprint(Settings(), "b1") != expected_fingerprint(Settings(), "b2")
