"""Small workflows the in-process engine tests run next to the test skills.

Each is registered as a skill (see ``conftest.INLINE``) so sagaflow's interceptor
gives it the run control plane, like any skill. The sandbox re-imports this
module by name, which works because pytest puts ``tests/engine`` on ``sys.path``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import (
        ApprovalGate,
        SpawnSubagentInput,
        WriteArtifactInput,
        wait_for_signal,
    )


@dataclass
class GatesInput:
    """Open ``steps`` at once; then wait for a ``finish`` signal before returning."""

    steps: list[str]
    timeout: float | None = None
    default: str = "reject"


@workflow.defn(name="TestGatesWorkflow")
class GatesWorkflow:
    @workflow.run
    async def run(self, inp: GatesInput) -> list[str]:
        gate = ApprovalGate(timeout_seconds=inp.timeout, default=inp.default)
        decisions = await asyncio.gather(*(gate.wait(step) for step in inp.steps))
        await wait_for_signal("finish")
        return [f"{d.step}:{'approved' if d.approved else 'rejected'}:{d.by}" for d in decisions]


@dataclass
class SignalsInput:
    """Wait for ``start``, then read ``count`` ``item`` signals, then one ``late`` one."""

    count: int
    late_timeout: float = 60.0
    late_default: bool = True


@workflow.defn(name="TestSignalsWorkflow")
class SignalsWorkflow:
    @workflow.run
    async def run(self, inp: SignalsInput) -> dict[str, Any]:
        await wait_for_signal("start")
        items = [await wait_for_signal("item") for _ in range(inp.count)]
        try:
            late = await (
                wait_for_signal("late", timeout=inp.late_timeout, default="none came")
                if inp.late_default else wait_for_signal("late", timeout=inp.late_timeout)
            )
        except TimeoutError as exc:
            late = f"TimeoutError: {exc}"
        return {"items": items, "late": late}


@dataclass
class StepsInput:
    """``writes`` artifact writes, then ``calls`` model calls, into ``run_dir``."""

    run_dir: str
    writes: int = 0
    calls: int = 0
    heartbeat_seconds: float = 120.0
    between: str = ""  # a signal to wait for between steps ("" = none)
    model_outputs: list[dict[str, str]] = field(default_factory=list)
    wrap_errors: bool = False  # raise a model step's failure as an error of the skill's own


@workflow.defn(name="TestStepsWorkflow")
class StepsWorkflow:
    @workflow.run
    async def run(self, inp: StepsInput) -> list[Any]:
        done: list[Any] = []
        for i in range(inp.writes):
            if inp.between:
                await wait_for_signal(inp.between)
            done.append(await workflow.execute_activity(
                "write_artifact", WriteArtifactInput(path=f"{inp.run_dir}/w{i}.txt", content=str(i)),
                start_to_close_timeout=timedelta(seconds=30),
            ))
        for i in range(inp.calls):
            if inp.between:
                await wait_for_signal(inp.between)
            try:
                done.append(await workflow.execute_activity(
                    "spawn_subagent",
                    SpawnSubagentInput(
                        role=f"call{i}", tier_name="HAIKU", system_prompt="sys",
                        user_prompt_path=f"{inp.run_dir}/w0.txt",
                    ),
                    start_to_close_timeout=timedelta(seconds=300),
                    heartbeat_timeout=timedelta(seconds=inp.heartbeat_seconds),
                    result_type=dict,
                ))
            except ActivityError as exc:
                if not inp.wrap_errors:
                    raise
                raise ApplicationError(f"model step call{i} failed: {exc}") from exc
        return done
