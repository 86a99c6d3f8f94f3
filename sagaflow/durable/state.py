"""``WorkflowState``: the base record sagaflow 0.10 skills extend for their workflow state.

Kept so skills written for the published sagaflow 0.10 import it unchanged
(``from sagaflow.durable.state import WorkflowState``; every npow/claude-skills Python
skill does). It is plain data: a skill's workflow keeps it in memory, and Temporal
rebuilds it on replay like any other workflow variable. Nothing in sagaflow reads it.

``add_cost`` keeps the skill's own running estimate (USD) from token counts at the
HAIKU or SONNET list price of :data:`sagaflow.pricing.DEFAULT_PRICES`; the run's real
cost is what ``sagaflow cost`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sagaflow.errors import SagaflowError
from sagaflow.pricing import DEFAULT_PRICES

ActivityStatus = Literal["pending", "in_progress", "completed", "timed_out", "failed", "spawn_failed"]

_HAIKU = DEFAULT_PRICES["claude-haiku-4-5"]
_SONNET = DEFAULT_PRICES["claude-sonnet-4-5"]


@dataclass
class ActivityOutcome:
    """How one activity of the skill ended, as the skill records it."""

    activity_id: str
    role: str
    status: ActivityStatus
    error_message: str | None = None


@dataclass
class WorkflowState:
    """Base state record; skills subclass it (``@dataclass class MyState(WorkflowState)``).

    Attributes:
        run_id: The run id ``build_input`` received.
        skill: The skill's name.
        generation: A counter the skill advances (:meth:`increment_generation`).
        activity_outcomes: What the skill recorded with :meth:`record_outcome`.
        cost_running_total: USD, the skill's own estimate (:meth:`add_cost`).
        terminal_label: Set once by :meth:`set_terminal`.
    """

    run_id: str
    skill: str
    generation: int = 0
    activity_outcomes: list[ActivityOutcome] = field(default_factory=list)
    cost_running_total: float = 0.0
    terminal_label: str | None = None

    def increment_generation(self) -> int:
        """Advance the generation counter; returns the new value."""
        self.generation += 1
        return self.generation

    def record_outcome(self, outcome: ActivityOutcome) -> None:
        """Append an activity outcome."""
        self.activity_outcomes.append(outcome)

    def add_cost(self, *, input_tokens: int, output_tokens: int, haiku: bool) -> None:
        """Add a call's list-price cost (USD) to :attr:`cost_running_total`."""
        price = _HAIKU if haiku else _SONNET
        self.cost_running_total += (input_tokens * price.input + output_tokens * price.output) / 1e6

    def set_terminal(self, label: str) -> None:
        """Record how the run ended, once.

        Raises:
            SagaflowError: it was already set (a skill bug: two endings).
        """
        if self.terminal_label is not None:
            raise SagaflowError(
                f"State of run {self.run_id} already ended as {self.terminal_label!r}; "
                f"set_terminal({label!r}) must be called once."
            )
        self.terminal_label = label


__all__ = ["ActivityOutcome", "ActivityStatus", "WorkflowState"]
