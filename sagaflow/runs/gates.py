"""What ``launch --await`` says when a run parks on a gate: the exact commands, once per gate.

Fed the happenings of :func:`sagaflow.runs.follow.follow`; the ``state`` ones carry the
run's SagaflowWaiting value (``approval:STEP``, ``budget``, ``signal:NAME``,
``question:KEY``, ``pause``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagaflow.runs.follow import Event


def gate_commands(run_id: str, waiting_on: str) -> str | None:
    """The exact commands that answer what a run waits on (None: nothing a command answers).

    ``waiting_on`` is the run's SagaflowWaiting value: ``approval:STEP``, ``budget``,
    ``question:KEY`` or ``signal:NAME`` (``pause`` and "" give None).
    """
    import shlex

    run = shlex.quote(run_id)
    if waiting_on == "budget":
        return (f"run {run_id} is parked on its budget; continue: sagaflow approve {run} "
                f"--extend-budget 1.00 · stop: sagaflow reject {run} --reason \"...\"")
    kind, _, step = waiting_on.partition(":")
    if kind == "signal" and step:
        return (f"run {run_id} waits for signal {step}; send it: sagaflow signal {run} "
                f"{shlex.quote(step)} '{{...}}' (a JSON payload, optional)")
    if kind == "question":
        return (f"run {run_id} asks a question (see `sagaflow inbox`); answer: "
                f"sagaflow answer {run} \"...\"")
    if kind != "approval" or not step:
        return None
    gate = shlex.quote(step)
    return (f"run {run_id} waits for approval of {step}; approve: sagaflow approve {run} "
            f"--step {gate} · reject: sagaflow reject {run} --step {gate} --reason \"...\"")


class GateNotices:
    """Turns ``state`` happenings into one notice per gate (``launch --await``).

    A gate's commands are said when it opens; the same gate seen again (history
    replayed, a cost update) says nothing, a different gate says its own commands.
    """

    def __init__(self, notice: Callable[[str], None]) -> None:
        self.notice = notice
        self.current = ""

    def __call__(self, event: Event) -> None:
        if event["event"] != "state":
            return
        waiting = event.get("waiting_on") or ""
        text = gate_commands(event.get("run_id", ""), waiting)
        if text is None:
            if not waiting:
                self.current = ""  # the gate closed: a later one is news again
            return
        if waiting != self.current:
            self.current = waiting
            self.notice(text)
