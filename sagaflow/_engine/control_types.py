"""Payloads of the control plane every sagaflow run answers.

Sent by the CLI (``approve``, ``reject``, ``pause``, ``unpause``) as Temporal
updates, and returned by the ``sagaflow_status`` query. Plain dataclasses, no
temporalio import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sagaflow.wiretypes import wire

#: gate kinds
APPROVAL = "approval"
BUDGET = "budget"
#: the local activity that opens/retires a gate's NEEDS APPROVAL inbox entry
GATE_ACTIVITY = "sagaflow_gate_inbox"


@wire
@dataclass(frozen=True)
class GateInboxInput:
    """What ``sagaflow_gate_inbox`` writes: a gate opened (entry appended) or closed (retired)."""

    run_id: str
    skill: str
    key: str
    opened: bool
    step: str
    kind: str
    prompt: str
    timeout_at: str
    default: str
    timestamp_iso: str


@wire
@dataclass
class DecisionRequest:
    """An answer to a pending gate (``sagaflow_decide`` update)."""

    approved: bool
    step: str = ""  # the gate to answer; "" = the only pending one
    by: str = ""
    comment: str = ""
    reason: str = ""
    extend_budget_usd: float = 0.0


@wire
@dataclass
class Decision:
    """How a gate was decided: by whom, why, or by its timeout default."""

    step: str
    kind: str
    approved: bool
    by: str = ""
    comment: str = ""
    reason: str = ""
    timed_out: bool = False
    decided_at: str = ""
    extend_budget_usd: float = 0.0


@wire
@dataclass
class Gate:
    """A pending question: an approval step or a parked budget."""

    step: str
    kind: str  # APPROVAL or BUDGET
    prompt: str
    opened_at: str
    timeout_at: str | None = None
    default: str = "reject"  # what a timeout decides: approve | reject


@wire
@dataclass
class PauseRequest:
    """``sagaflow_pause`` update: stop (or resume) before the next step."""

    paused: bool
    by: str = ""
    reason: str = ""


@wire
@dataclass
class RunStatus:
    """What ``sagaflow_status`` answers."""

    paused: bool = False
    pending: list[Gate] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    waiting_on: str = ""
    budget_usd: float | None = None
    spent_usd: float = 0.0
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    signals_waiting: list[str] = field(default_factory=list)
