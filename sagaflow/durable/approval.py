"""Earlier home of the workflow helpers; they live in :mod:`sagaflow.workflow` now."""

from sagaflow.workflow import ApprovalGate, Decision, Saga, pool, wait_for_signal

__all__ = ["ApprovalGate", "Decision", "Saga", "pool", "wait_for_signal"]
