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

from pydantic import BaseModel, field_validator
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import (
        ApprovalGate,
        LoopLimitError,
        ParallelError,
        ask_model,
        child,
        loop_until,
        parallel,
        route,
        sleep,
        wait_for_signal,
    )


class Verdict(BaseModel):
    """A pydantic model ``ask_model(output=Verdict)`` validates the reply as."""

    score: int
    reason: str


class SmallScore(BaseModel):
    """A model whose validator the JSON schema cannot express (score below 10)."""

    score: int

    @field_validator("score")
    @classmethod
    def below_ten(cls, value: int) -> int:
        if value >= 10:
            raise ValueError("score must be below 10")
        return value


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


async def _ask_invalid(a: dict[str, Any]) -> Any:
    return (await ask_model("json: big score", output=SmallScore, role="scorer")).score


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


async def _parallel(a: dict[str, Any]) -> Any:
    """Branch i sleeps (n - i) seconds and returns i; ``fail`` raises in that branch."""
    n, running, peak = a.get("n", 5), [0], [0]
    start = workflow.now()

    def branch(i: int) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            try:
                await sleep(n - i)
                if i in a.get("fail", []):
                    raise ValueError(f"branch {i} broke")
                return i
            finally:
                running[0] -= 1
        return run

    calls = [branch(i) for i in range(n)]
    try:
        results = await parallel(calls, max_concurrency=a.get("max"),
                                 fail_fast=a.get("fail_fast", True))
    except ParallelError as exc:
        if a.get("raise"):
            raise
        results = [[b.index, b.ok, b.cancelled, b.value, str(b.error or "")]
                   for b in exc.branches]
    return {"results": results, "peak": peak[0],
            "seconds": (workflow.now() - start).total_seconds()}


async def _parallel_models(a: dict[str, Any]) -> Any:
    prompts = [f"item {i}" for i in range(a.get("n", 6))]
    return await parallel([lambda p=p: ask_model(p, role="fan") for p in prompts],  # type: ignore[misc]
                          max_concurrency=a.get("max", 3))


async def _parallel_bad(a: dict[str, Any]) -> Any:
    return await parallel(a.get("calls", []), **a.get("options", {}))


async def _loop(a: dict[str, Any]) -> Any:
    async def refine(iteration: int, previous: Any) -> tuple[bool, Any]:
        out = await ask_model(f"draft {iteration} after {previous}", output=dict, role="refine")
        return out["RESULT"] == str(a.get("good_at", 3)), out["RESULT"]

    try:
        return await loop_until(refine, max_iterations=a.get("max", 5),
                                on_max=a.get("on_max", "fail"))
    except LoopLimitError as exc:
        if a.get("raise"):
            raise
        return {"iterations": exc.iterations, "last": exc.last}


async def _loop_bad(a: dict[str, Any]) -> Any:
    async def body(iteration: int, previous: Any) -> Any:
        return a.get("returns", "yes")

    return await loop_until(body, **a.get("options", {"max_iterations": 2}))


async def _route(a: dict[str, Any]) -> Any:
    async def cheap() -> str:
        return await ask_model("cheap path", tier="haiku", role="cheap")

    async def careful() -> str:
        await sleep(60)
        return "careful"

    async def fallback() -> str:
        return "fallback"

    branches: Any = a.get("branches", {"cheap": cheap, "careful": careful})
    use_default = a.get("default", False)
    return await route(a["key"], branches, default=fallback if use_default else None)


async def _child(a: dict[str, Any]) -> Any:
    return await child(a["skill"], a.get("args"), wait=a.get("wait", True))


CASES: dict[str, Case] = {
    "parallel": _parallel, "parallel_models": _parallel_models, "parallel_bad": _parallel_bad,
    "loop": _loop, "loop_bad": _loop_bad, "route": _route, "child": _child,
    "ask_text": _ask_text, "ask_dict": _ask_dict, "ask_schema": _ask_schema,
    "ask_model_class": _ask_model_class,
    "ask_invalid": _ask_invalid, "ask_bad": _ask_bad, "sleep": _sleep,
    "sleep_bad": _sleep_bad, "signal_timedelta": _signal_timedelta,
    "signal_times_out": _signal_times_out, "gate_timedelta": _gate_timedelta,
}


@workflow.defn(name="TestFlowWorkflow")
class FlowWorkflow:
    @workflow.run
    async def run(self, inp: FlowInput) -> Any:
        return await CASES[inp.case](inp.args)
