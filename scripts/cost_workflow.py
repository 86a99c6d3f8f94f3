"""A configurable raw workflow for ``bench_cost.py``: what does each extra item cost?

The input dict says what to add to the floor's three activities, so one worker
serves every variant and only the variant changes between batches:

* ``acts``: activities run one after the other (``cost_noop``, returns ``""``);
* ``upsert_after``: indexes of activities after which the run upserts one search
  attribute, in the workflow task that already follows that activity (as
  sagaflow's run control does: no extra workflow task);
* ``patched_after``: indexes of activities after which the run calls
  ``workflow.patched`` (a marker plus a ``TemporalChangeVersion`` upsert in a new run);
* ``final_upsert``: 1 or 2 search attributes upserted in one command in the
  last workflow task (beside the completion);
* ``beat``: the middle activity gets a heartbeat timeout of this many seconds
  and heartbeats once at its start (sagaflow's model step); ``beat_late``: it
  only heartbeats after 0.5 s (so a quick call sends none);
* ``local``: local activities after the last activity;
* ``query``: register a query, two updates and a dynamic signal handler (what
  sagaflow's run control installs);
* ``pad``: ignored text, to price a larger workflow input.

Kept in its own module because Temporal's sandbox re-imports a workflow's module
by name on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeKey

WORKFLOW_NAME = "CostWorkflow"
STATE = SearchAttributeKey.for_keyword("SagaflowState")
COST = SearchAttributeKey.for_float("SagaflowCostUsd")


@workflow.defn(name=WORKFLOW_NAME)
class CostWorkflow:
    """``acts`` activities plus the items the input asks for."""

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
        upsert_after = set(inp.get("upsert_after", []))
        beat = float(inp.get("beat", 0))
        for i in range(acts):
            middle = beat and i == acts // 2
            await workflow.execute_activity(
                "cost_beat" if middle else "cost_noop",
                "late" if inp.get("beat_late") else "",
                start_to_close_timeout=timedelta(seconds=10),
                heartbeat_timeout=timedelta(seconds=beat) if middle else None,
            )
            if i in upsert_after:
                workflow.upsert_search_attributes([COST.value_set(float(i))])
            if i in inp.get("patched_after", []):
                workflow.patched(f"cost-patch-{i}")
        for _ in range(int(inp.get("local", 0))):
            await workflow.execute_local_activity(
                "cost_noop", "", start_to_close_timeout=timedelta(seconds=10)
            )
        final = int(inp.get("final_upsert", 0))
        if final:
            updates = [STATE.value_set("completed"), COST.value_set(1.0)]
            workflow.upsert_search_attributes(updates[:final])
        return "ok"
