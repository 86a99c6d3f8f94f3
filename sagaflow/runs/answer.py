"""``sagaflow answer RUN "text"`` / ``--choice N``: answer a SKILL.md run's question.

A run of the agent loop that called AskUserQuestion parks (its QUESTION inbox entry
and the SessionStart hook show the exact command); this sends the ``sagaflow_answer``
update, which the run validates: a run that asks nothing refuses it in one line
before anything reaches its history.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client

from sagaflow._engine import meta
from sagaflow.agent import AGENT_WORKFLOW, UPDATE_ANSWER
from sagaflow.agent.types import AnswerRequest
from sagaflow.errors import UsageError
from sagaflow.runs.reach import (
    Local,
    default_user,
    ensure_worker,
    open_run,
    refuse_blocked,
    send_update,
)


def check_answer(text: str, choice: int | None) -> None:
    """Refuse a malformed answer before connecting.

    Raises:
        UsageError: neither or both of text and ``--choice``, or a choice below 1.
    """
    if choice is not None and choice < 1:
        raise UsageError(f"--choice {choice} must be 1 or more (the option's number).")
    if not text.strip() and choice is None:
        raise UsageError('answer needs the answer: sagaflow answer RUN "text" or --choice N.')
    if text.strip() and choice is not None:
        raise UsageError("give the answer as text or as --choice N, not both.")


async def answer(
    client: Client, run_id: str, text: str = "", choice: int | None = None, by: str = "",
    *, local: Local | None = None,
) -> dict[str, Any]:
    """Answer the question a run waits on.

    Returns:
        ``{"run_id", "answer", "by"}`` (``answer``: the text the run received).

    Raises:
        UsageError: a malformed answer, a closed run, a run that is not a SKILL.md
            agent, or the run's refusal (it asks nothing, a choice out of range).
        RunNotFoundError: no such run.
    """
    check_answer(text, choice)
    desc = await open_run(client, run_id, "answer")
    if desc.workflow_type != AGENT_WORKFLOW:
        memo = await desc.memo_value(meta.MEMO_SKILL, default=desc.workflow_type)
        raise UsageError(
            f"Run {run_id} asks nothing: it is a {memo} run, and only SKILL.md skills ask "
            "questions (a Python skill waits for 'sagaflow approve' or 'sagaflow signal')."
        )
    await ensure_worker(desc, local)
    await refuse_blocked(client, run_id, desc)
    who = by or default_user()
    request = AnswerRequest(text=text, choice=choice or 0, by=who)
    given = await send_update(client.get_workflow_handle(run_id), UPDATE_ANSWER, request, desc,
                              local)
    return {"run_id": run_id, "answer": given, "by": who}
