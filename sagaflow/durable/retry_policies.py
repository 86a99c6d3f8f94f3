"""Seed API: the retry policies per model tier (re-exported from :mod:`sagaflow.workflow`)."""

from sagaflow._engine.retry_policies import POLICIES
from sagaflow.workflow import HAIKU_POLICY, OPUS_POLICY, SONNET_POLICY

__all__ = ["HAIKU_POLICY", "OPUS_POLICY", "POLICIES", "SONNET_POLICY"]
