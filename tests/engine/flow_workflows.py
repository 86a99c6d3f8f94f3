"""A workflow that exercises the flow helpers (``sagaflow.workflow``), one case per run.

Registered as the inline skill ``t-flow`` (see harness.inline_skills). ``FlowInput.case``
names the scenario; ``FlowInput.args`` carries its parameters. The sandbox re-imports
this module by name (pytest puts ``tests/engine`` on ``sys.path``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import ApprovalGate, ask_model, sleep, wait_for_signal


class Verdict(BaseModel):
    """A pydantic model ``ask_model(output=Verdict)`` validates the reply as."""

    score: int
    reason: str


SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "integer"}, "tags": {"type": "array"}},
    "required": ["score"],
}


@dataclass
class FlowInput:
    case: str
    args: dict[str, Any] = field(default_factory=dict)


Case = Callable[[dict[str, Any]], Awaitable[Any]]


async def _ask_text(a: dict[str, Any]) -> Any:
    return await ask_model(a.get("prompt", "say hi"), system="be brief", tier="Sonnet")


async def _ask_dict(a: dict[str, Any]) -> Any:
    return await ask_model(a.get("prompt", "give RESULT"), output=dict, role="structured")


async def _ask_schema(a: dict[str, Any]) -> Any:
    return await ask_model(a.get("prompt", "json: score"), output=SCHEMA, tier="HAIKU")


async def _ask_model_class(a: dict[str, Any]) -> Any:
    verdict = await ask_model(a.get("prompt", "json: verdict"), output=Verdict)
    assert isinstance(verdict, Verdict)
    return verdict.model_dump()


async def _ask_bad(a: dict[str, Any]) -> Any:
    return await ask_model("x", **a)  # an unknown option or a bad value: fails at the call


async def _sleep(a: dict[str, Any]) -> Any:
    start = workflow.now()
    await sleep(timedelta(hours=2))
    await sleep(a.get("seconds", 90))
    return (workflow.now() - start).total_seconds()


async def _sleep_bad(a: dict[str, Any]) -> Any:
    await sleep(a["duration"])


async def _signal_timedelta(a: dict[str, Any]) -> Any:
    # the example: a timedelta timeout, the signal arriving during the wait
    return await wait_for_signal("go", timeout=timedelta(hours=1))


async def _signal_times_out(a: dict[str, Any]) -> Any:
    return await wait_for_signal("never", timeout=timedelta(minutes=5))


async def _gate_timedelta(a: dict[str, Any]) -> Any:
    decision = await ApprovalGate(timeout=timedelta(minutes=5), default="approve").wait("ship")
    return [decision.approved, decision.by, decision.reason]


CASES: dict[str, Case] = {
    "ask_text": _ask_text, "ask_dict": _ask_dict, "ask_schema": _ask_schema,
    "ask_model_class": _ask_model_class, "ask_bad": _ask_bad, "sleep": _sleep,
    "sleep_bad": _sleep_bad, "signal_timedelta": _signal_timedelta,
    "signal_times_out": _signal_times_out, "gate_timedelta": _gate_timedelta,
}


@workflow.defn(name="TestFlowWorkflow")
class FlowWorkflow:
    @workflow.run
    async def run(self, inp: FlowInput) -> Any:
        return await CASES[inp.case](inp.args)
