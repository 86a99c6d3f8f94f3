"""child(): another skill as a full sagaflow run under a parent (in-process)."""

from __future__ import annotations

from typing import Any

import pytest
from flow_workflows import FlowInput
from harness import Engine, failure
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle

from sagaflow._engine import meta
from sagaflow._engine.control_types import Decision, DecisionRequest
from sagaflow.runrecord import read_record

APPROVE = {"timeout": 600, "default": "approve"}  # numbers travel as launch's text
PUBLISHED = "published: approved by timeout default"


async def child_id(e: Engine, parent: WorkflowHandle[Any, Any]) -> str:
    """The run id of the parent's (first) child, once it started."""
    for _ in range(500):
        for event in await e.events(parent):
            if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
                return event.start_child_workflow_execution_initiated_event_attributes.workflow_id
        await __import__("asyncio").sleep(0.02)
    raise AssertionError("the parent never started a child")


def test_a_child_is_a_full_run_and_the_parent_gets_its_result(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        parent = await e.start("t-flow", FlowInput("child", {"skill": "gated", "args": APPROVE}))
        assert await parent.result() == PUBLISHED
        run_id = await child_id(e, parent)
        assert run_id.startswith("gated-")
        record = read_record(e.home, run_id)
        assert record is not None and record.args == {"timeout": "600", "default": "approve"}
        handle = e.client.get_workflow_handle(run_id)
        memo = await (await handle.describe()).memo()
        assert memo[meta.MEMO_PARENT] == parent.id and memo[meta.MEMO_SKILL] == "gated"
        attrs = await e.attributes(handle)
        assert (attrs[meta.SA_SKILL], attrs[meta.SA_STATE]) == ("gated", "completed")
        assert (await e.entry(run_id, "DONE")).summary == PUBLISHED  # its own inbox entry
        assert (await e.entry(parent.id, "DONE")).summary == PUBLISHED

    engine.run(scenario)


def test_wait_false_returns_the_run_id_and_the_child_goes_on(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        parent = await e.start("t-flow", FlowInput(
            "child", {"skill": "gated", "wait": False}))
        assert e.env is not None
        with e.env.auto_time_skipping_disabled():  # the child's gate must not time out
            run_id = await parent.result()  # while the child waits at its gate
        assert run_id == await child_id(e, parent)
        handle = e.client.get_workflow_handle(run_id)
        await e.until(handle, lambda s: bool(s.pending))
        await handle.execute_update(meta.UPDATE_DECIDE, DecisionRequest(
            step="publish", approved=True, by="tester"), result_type=Decision)
        assert await handle.result() == "published: approved by tester"

    engine.run(scenario)


def test_a_failed_child_fails_the_parent_with_its_reason(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        parent = await e.start("t-flow", FlowInput(
            "child", {"skill": "gated", "args": {"timeout": 60}}))
        reason = await failure(parent)
        assert reason.endswith("publish rejected by its timeout: no decision within 60s; "
                               "default: reject")
        run_id = await child_id(e, parent)
        assert (await e.entry(run_id, "FAILED")).summary.startswith("publish rejected")

    engine.run(scenario)


@pytest.mark.parametrize(("args", "reason"), [
    ({"skill": "gone"}, "child run of gone could not start: Unknown skill 'gone'"),
    ({"skill": "gated", "args": {"colour": "red"}}, "child run of gated could not start: "),
    ({"skill": ""}, "child needs a skill name, not ''."),
    ({"skill": "gated", "args": ["timeout"]}, "child args must be a mapping of name to value, "
                                              "not list."),
    ({"skill": "gated", "wait": "yes"}, "wait must be True or False, not 'yes'."),
])
def test_a_child_that_cannot_start_fails_the_parent_clearly(
    engine: Engine, args: dict[str, Any], reason: str
) -> None:
    async def scenario(e: Engine) -> None:
        parent = await e.start("t-flow", FlowInput("child", args))
        assert (await failure(parent)).startswith(reason)
        assert (await e.entry(parent.id, "FAILED")).summary.startswith(reason)

    engine.run(scenario)


def test_cancelling_the_parent_cancels_a_waited_child_first(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        parent = await e.start("t-flow", FlowInput("child", {"skill": "gated"}))
        run_id = await child_id(e, parent)
        handle = e.client.get_workflow_handle(run_id)
        await e.until(handle, lambda s: bool(s.pending))  # the child waits at its gate
        await parent.cancel()
        with pytest.raises(WorkflowFailureError):
            await parent.result()
        assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
        assert (e.home.run_dir(run_id) / "compensated.txt").is_file()  # its saga ran
        await e.entry(run_id, "CANCELLED")
        await e.entry(parent.id, "CANCELLED")

    engine.run(scenario)
