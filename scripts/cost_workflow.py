"""A configurable raw workflow for ``bench_cost.py``: what does each extra item cost?

The input dict says what to add to the floor's three activities, so one worker
serves every variant and only the variant changes between batches:

* ``acts``: activities run one after the other (``cost_noop``, returns its input);
* ``upserts``: search-attribute upserts, one after each of the last activities
  (in the workflow task that already follows that activity, as sagaflow's run
  control does: no extra workflow task);
* ``local``: local activities (``cost_noop``) after the last activity;
* ``query``: register a query, two updates and a dynamic signal handler (what
  sagaflow's run control installs; handlers cost nothing in history).

Kept in its own module because Temporal's sandbox re-imports a workflow's module
by name on every run.
"""

from __future__ import annotations

from datetime import timedelta
from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeKey

WORKFLOW_NAME = "CostWorkflow"
STATE = SearchAttributeKey.for_keyword("SagaflowState")
COST = SearchAttributeKey.for_float("SagaflowCostUsd")


@workflow.defn(name=WORKFLOW_NAME)
class CostWorkflow:
    """``acts`` noop activities, then ``upserts`` upserts and ``local`` local activities."""

    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        del name, args

    @workflow.run
    async def run(self, inp: dict[str, Any]) -> str:
        if inp.get("query"):
            workflow.set_query_handler("status", lambda: {"ok": True})
            workflow.set_update_handler("decide", lambda _x: None)
            workflow.set_update_handler("pause", lambda _x: None)
            workflow.set_dynamic_signal_handler(self.on_signal)
        acts = int(inp.get("acts", 3))
        upserts = int(inp.get("upserts", 0))
        payload = inp.get("payload", "")
        for i in range(acts):
            await workflow.execute_activity(
                "cost_noop", payload, start_to_close_timeout=timedelta(seconds=10)
            )
            if i >= acts - upserts:
                workflow.upsert_search_attributes([COST.value_set(float(i))])
        for _ in range(int(inp.get("local", 0))):
            await workflow.execute_local_activity(
                "cost_noop", "", start_to_close_timeout=timedelta(seconds=10)
            )
        if upserts > acts:
            workflow.upsert_search_attributes([STATE.value_set("completed")])
        return "ok"
