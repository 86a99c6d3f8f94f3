"""refine: draft, then critique and revise until the critic's score reaches the target.

``loop_until`` runs one round per iteration (at most ``rounds``); each model call is
a durable step, so a crash in round three resumes in round three. When the target is
never reached, ``on_max="return_last"`` returns the last draft instead of failing.
"""

import re
from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.prompts import render
    from sagaflow.workflow import ask_model, loop_until


@dataclass(frozen=True)
class RefineInput:
    topic: str
    target: int  # stop once the critic's score (1-10) reaches this
    rounds: int  # at most this many draft -> critique rounds
    writer_system: str
    draft_prompt: str  # rendered: the first draft's request
    revise_prompt: str  # template: $topic, $draft, $feedback
    critic_system: str
    critique_prompt: str  # template: $topic, $draft


@dataclass(frozen=True)
class Draft:
    text: str
    score: int
    feedback: str
    round: int


def _score(text: str) -> int:
    found = re.search(r"\d+", text)
    return int(found.group()) if found else 0


@workflow.defn(name="RefineWorkflow")
class RefineWorkflow:
    @workflow.run
    async def run(self, inp: RefineInput) -> dict[str, object]:
        async def one_round(round_: int, last: Draft | None) -> tuple[bool, Draft]:
            if last is None:
                prompt = inp.draft_prompt
            else:
                prompt = render(inp.revise_prompt, {
                    "topic": inp.topic, "draft": last.text, "feedback": last.feedback,
                })
            text = (await ask_model(prompt, system=inp.writer_system, max_tokens=800,
                                    role="writer")).strip()
            review = await ask_model(
                render(inp.critique_prompt, {"topic": inp.topic, "draft": text}),
                system=inp.critic_system, output=dict, max_tokens=400, role="critic",
            )
            draft = Draft(text, _score(review.get("SCORE", "")), review.get("FEEDBACK", ""), round_)
            return draft.score >= inp.target, draft

        last = await loop_until(one_round, max_iterations=inp.rounds, on_max="return_last")
        return {"text": last.text, "score": last.score, "rounds": last.round,
                "reached_target": last.score >= inp.target}
