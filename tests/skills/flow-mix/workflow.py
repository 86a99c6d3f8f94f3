from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import ask_model, child, loop_until, parallel, route, sleep


@dataclass(frozen=True)
class FlowMixInput:
    topic: str
    mode: str = "root"


CRITICS = ("style", "facts", "tone")


@workflow.defn(name="FlowMixWorkflow")
class FlowMixWorkflow:
    @workflow.run
    async def run(self, inp: FlowMixInput) -> dict:
        if inp.mode == "leaf":
            out = await ask_model(f"Summarize {inp.topic}", output=dict, role="leaf")
            return {"summary": out["SUMMARY"]}
        critiques = await parallel(
            [lambda c=c: ask_model(f"Critic {c}: {inp.topic}", output=dict, role=f"critic-{c}")
             for c in CRITICS],
            max_concurrency=2,
        )

        async def refine(iteration: int, previous: str | None) -> tuple[bool, str]:
            out = await ask_model(f"Refine {inp.topic} round {iteration}", output=dict,
                                  role="refine")
            return out["GOOD"] == "yes", out["DRAFT"]

        draft = await loop_until(refine, max_iterations=3)

        async def ship() -> str:
            await sleep(timedelta(milliseconds=200))
            return "shipped"

        async def hold() -> str:
            return "held"

        verdict = await route(critiques[0]["VERDICT"], {"ship": ship, "hold": hold})
        leaf = await child("flow-mix", {"topic": inp.topic, "mode": "leaf"})
        return {"notes": [c["NOTE"] for c in critiques], "draft": draft, "verdict": verdict,
                "child": leaf}
