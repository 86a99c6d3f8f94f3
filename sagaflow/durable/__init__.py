"""Seed-API paths skills import (``sagaflow.durable.activities``, ``.retry_policies``).

Thin re-exports of :mod:`sagaflow.workflow`, kept so skills written against the seed
README run unchanged.
"""
