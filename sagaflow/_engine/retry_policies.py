"""Retry policies per model tier (seed API: ``HAIKU_POLICY`` etc.).

Errors sagaflow marks non-retryable (bad request, bad key, unknown tier, a
missing prompt) fail at once whatever the policy says.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

HAIKU_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=6,
)
SONNET_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=6,
)
OPUS_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=120),
    maximum_attempts=5,
)

POLICIES = {"HAIKU": HAIKU_POLICY, "SONNET": SONNET_POLICY, "OPUS": OPUS_POLICY}
