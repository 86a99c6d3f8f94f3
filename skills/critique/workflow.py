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
class Critic:
    name: str
    system: str  # its own system prompt


@dataclass(frozen=True)
class CritiqueInput:
    text: str
    critics: list[Critic]  # a list: Temporal's JSON converter sorts a dict's keys
    critic_prompt: str  # template: $critic, $text
    judge_system: str
    judge_prompt: str  # template: $text, $notes


@workflow.defn(name="CritiqueWorkflow")
class CritiqueWorkflow:
    @workflow.run
    async def run(self, inp: CritiqueInput) -> dict[str, object]:
        def review(critic: Critic):
            prompt = render(inp.critic_prompt, {"critic": critic.name, "text": inp.text})
            return lambda: ask_model(prompt, system=critic.system, output=dict, max_tokens=600,
                                     role=f"critic-{critic.name}")

        notes = await parallel([review(c) for c in inp.critics], max_concurrency=4)
        scores = {c.name: note.get("SCORE", "?") for c, note in zip(inp.critics, notes)}
        lines = [f"- {c.name} critic ({scores[c.name]}/10): {note.get('NOTES', '')}"
                 for c, note in zip(inp.critics, notes)]
        verdict = await ask_model(
            render(inp.judge_prompt, {"text": inp.text, "notes": "\n".join(lines)}),
            system=inp.judge_system, tier="sonnet", output=Verdict, max_tokens=800, role="judge",
        )
        return {**verdict.model_dump(), "critics": scores}
