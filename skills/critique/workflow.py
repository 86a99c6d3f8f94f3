"""critique: a fan-out of critics, each with its own system prompt, joined by a judge.

The critics run at once (``parallel``); each is one durable model call, so a crash
after two of three critics finished re-runs only the third. The judge's reply is
validated against the ``Verdict`` pydantic model.
"""

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.prompts import render
    from sagaflow.workflow import ask_model, parallel

    from skills.critique.verdict import Verdict


@dataclass(frozen=True)
class CritiqueInput:
    text: str
    critics: dict[str, str]  # critic name -> its system prompt, in the order they report
    critic_prompt: str  # template: $critic, $text
    judge_system: str
    judge_prompt: str  # template: $text, $notes


@workflow.defn(name="CritiqueWorkflow")
class CritiqueWorkflow:
    @workflow.run
    async def run(self, inp: CritiqueInput) -> dict[str, object]:
        def critic(name: str, system: str):
            prompt = render(inp.critic_prompt, {"critic": name, "text": inp.text})
            return lambda: ask_model(prompt, system=system, output=dict, max_tokens=600,
                                     role=f"critic-{name}")

        notes = await parallel([critic(n, s) for n, s in inp.critics.items()], max_concurrency=4)
        scores = {name: note.get("SCORE", "?") for name, note in zip(inp.critics, notes)}
        lines = [f"- {name} critic ({scores[name]}/10): {note.get('NOTES', '')}"
                 for name, note in zip(inp.critics, notes)]
        verdict = await ask_model(
            render(inp.judge_prompt, {"text": inp.text, "notes": "\n".join(lines)}),
            system=inp.judge_system, tier="sonnet", output=Verdict, max_tokens=800, role="judge",
        )
        return {**verdict.model_dump(), "critics": scores}
