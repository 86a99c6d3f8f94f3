"""The control plane every sagaflow run carries (workflow side).

One :class:`RunControl` per workflow run, installed by the worker's interceptor
before the skill's code starts. It answers:

* the ``sagaflow_status`` query (a :class:`~sagaflow._engine.control_types.RunStatus`);
* the ``sagaflow_decide`` update, validated: a decision for a gate that is not
  pending (stale, duplicate, wrong step, budget without an extension) is
  rejected before it reaches history;
* the ``sagaflow_pause`` update, validated the same way;
* any signal nobody else handles, buffered FIFO per name for ``wait_for_signal``.

It keeps the run's search attributes (state, waiting-on, cost) current and
writes/retires NEEDS APPROVAL inbox entries through a local activity. All of it
is deterministic workflow code: time is ``workflow.now()``, no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy

from sagaflow._engine import meta
from sagaflow._engine.budget import BUDGET_WORST_CASE_PATCH, worst_case_usd
from sagaflow._engine.control_types import (
    APPROVAL,
    BUDGET,
    GATE_ACTIVITY,
    Decision,
    DecisionRequest,
    Gate,
    GateInboxInput,
    PauseRequest,
    RunStatus,
)
from sagaflow._engine.meta import RunOptions
from sagaflow._engine.search_attributes import keys
from sagaflow.pricing import USAGE_KEYS, format_usd
from sagaflow.wiretypes import wire

#: a change of cost alone reaches the ``SagaflowCostUsd`` search attribute at most this often
#: (seconds of workflow time); state changes and the end of the run always carry it
COST_UPSERT_SECONDS = 30.0
#: ``workflow.patched`` id: runs recorded before cost upserts were batched replay unbatched
COST_BATCHING_PATCH = "sagaflow-cost-upsert-batched"
#: ``workflow.patched`` id: a pause is written into the run's memo (who, why, when)
PAUSE_MEMO_PATCH = "sagaflow-pause-memo"

if TYPE_CHECKING:
    from sagaflow._engine.model_call import StepUsage

_ATTR = "__sagaflow_control__"


class RunControl:
    """Pause flag, gates, budget, signals and usage of one run."""

    def __init__(self, skill: str, options: RunOptions) -> None:
        self.skill = skill
        self.budget_usd = options.budget_usd
        self.config = options.config
        self.revision = options.revision
        self.paused = False
        self.pause_info: dict[str, str] = {}  # by, reason, at (while paused)
        self.gates: dict[str, Gate] = {}
        self.decisions: list[Decision] = []
        self.signals: dict[str, deque[Any]] = {}
        self.signal_waits: list[str] = []
        #: an agent loop's open AskUserQuestion (its inbox key): the run waits on an answer
        self.questions: list[str] = []
        self.spent_usd = 0.0
        self.last_call_usd = 0.0
        self.calls = 0
        self.tokens = dict.fromkeys(USAGE_KEYS, 0)
        self._shown: dict[str, Any] = {}
        self._cost_shown_at = 0.0  # workflow time (epoch seconds) of the last cost upsert
        self._gate_serial = 0

    # -- installation -------------------------------------------------------------------

    def install(self) -> None:
        """Register handlers on the current workflow and make this findable."""
        self._cost_shown_at = workflow.now().timestamp()
        workflow.set_query_handler(meta.QUERY_STATUS, self.status)
        workflow.set_update_handler(meta.UPDATE_DECIDE, self.decide, validator=self.validate_decide)
        workflow.set_update_handler(meta.UPDATE_PAUSE, self.pause, validator=self.validate_pause)
        if workflow.get_dynamic_signal_handler() is None:
            workflow.set_dynamic_signal_handler(self._on_signal)
        setattr(workflow.instance(), _ATTR, self)

    # -- query ----------------------------------------------------------------------------

    @wire  # a handler: its hints are read once per run
    def status(self) -> RunStatus:
        return RunStatus(
            paused=self.paused,
            pending=list(self.gates.values()),
            decisions=list(self.decisions),
            waiting_on=self.waiting_on(),
            budget_usd=self.budget_usd,
            spent_usd=round(self.spent_usd, 6),
            model_calls=self.calls,
            signals_waiting=list(self.signal_waits),
            paused_by=self.pause_info.get("by", ""),
            pause_reason=self.pause_info.get("reason", ""),
            paused_at=self.pause_info.get("at", ""),
            **self.tokens,
        )

    def waiting_on(self) -> str:
        if self.gates:
            gate = next(iter(self.gates.values()))
            return BUDGET if gate.kind == BUDGET else f"{APPROVAL}:{gate.step}"
        if self.signal_waits:
            return f"signal:{self.signal_waits[0]}"
        if self.questions:
            return f"question:{self.questions[0]}"
        if self.paused:
            return "pause"
        return ""

    # -- decisions --------------------------------------------------------------------------

    def _last_decision(self, step: str) -> Decision | None:
        return next((d for d in reversed(self.decisions) if d.step == step), None)

    def _target(self, req: DecisionRequest) -> Gate:
        if req.step:
            gate = self.gates.get(req.step)
            if gate is not None:
                return gate
            done = self._last_decision(req.step)
            if done is not None:
                verdict = "approved" if done.approved else "rejected"
                who = "its timeout" if done.timed_out else (done.by or "someone")
                raise ValueError(f"step {req.step!r} was already decided: {verdict} by {who}")
            pending = ", ".join(self.gates) or "nothing"
            raise ValueError(f"no approval named {req.step!r} is pending (pending: {pending})")
        if not self.gates:
            last = self.decisions[-1] if self.decisions else None
            if last is not None:
                verdict = "approved" if last.approved else "rejected"
                raise ValueError(
                    f"the run is not waiting on an approval; {last.step!r} was already {verdict}"
                )
            raise ValueError("the run is not waiting on an approval")
        if len(self.gates) > 1:
            raise ValueError(
                f"the run waits on several approvals ({', '.join(self.gates)}); pick one with --step"
            )
        return next(iter(self.gates.values()))

    @wire
    def validate_decide(self, req: DecisionRequest) -> None:
        gate = self._target(req)
        if req.extend_budget_usd < 0 or not math.isfinite(req.extend_budget_usd):
            raise ValueError("a budget extension must be a positive amount")
        if gate.kind == BUDGET and req.approved and req.extend_budget_usd <= 0:
            raise ValueError(f"{gate.prompt}; approve with --extend-budget AMOUNT to continue")
        if gate.kind != BUDGET and req.extend_budget_usd:
            raise ValueError(f"step {gate.step!r} is an approval, not a budget; drop --extend-budget")

    @wire
    def decide(self, req: DecisionRequest) -> Decision:
        gate = self._target(req)
        decision = Decision(
            step=gate.step, kind=gate.kind, approved=req.approved, by=req.by,
            comment=req.comment, reason=req.reason,
            decided_at=workflow.now().isoformat(timespec="seconds"),
            extend_budget_usd=req.extend_budget_usd if req.approved else 0.0,
        )
        if gate.kind == BUDGET and req.approved and self.budget_usd is not None:
            self.budget_usd += req.extend_budget_usd
        self.decisions.append(decision)
        del self.gates[gate.step]
        return decision

    # -- pause ------------------------------------------------------------------------------

    @wire
    def validate_pause(self, req: PauseRequest) -> None:
        if req.paused and self.paused:
            raise ValueError("the run is already paused; unpause it first")
        if not req.paused and not self.paused:
            raise ValueError("the run is not paused")

    @wire
    def pause(self, req: PauseRequest) -> RunStatus:
        """Pause or resume; who paused it and why are kept (status query, and the
        :data:`~sagaflow._engine.meta.MEMO_PAUSE` memo that ``list`` reads)."""
        self.paused = req.paused
        self.pause_info = {
            "by": req.by, "reason": req.reason,
            "at": workflow.now().isoformat(timespec="seconds"),
        } if req.paused else {}
        if workflow.patched(PAUSE_MEMO_PATCH):  # runs recorded before it replay without it
            workflow.upsert_memo({meta.MEMO_PAUSE: dict(self.pause_info) or None})
        self.refresh()
        return self.status()

    async def wait_unpaused(self) -> None:
        if self.paused:
            await workflow.wait_condition(lambda: not self.paused)

    # -- signals ----------------------------------------------------------------------------

    @wire
    def _on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        if name == meta.SIGNAL_RESTART_DEADLINE:  # a run without --timeout: nothing restarts
            return
        converter = workflow.payload_converter()
        value = converter.from_payload(args[0].payload) if args else None
        self.signals.setdefault(name, deque()).append(value)

    async def wait_signal(self, name: str, timeout: float | None) -> tuple[bool, Any]:
        """Oldest buffered ``name`` signal, or ``(False, None)`` on timeout."""
        queue = self.signals.setdefault(name, deque())
        if not queue:
            self.signal_waits.append(name)
            self.refresh()
            try:
                await workflow.wait_condition(
                    lambda: bool(queue), timeout=timedelta(seconds=timeout) if timeout else None
                )
            except TimeoutError:
                return False, None
            finally:
                self.signal_waits.remove(name)
                self.refresh()
        return True, queue.popleft()

    # -- gates --------------------------------------------------------------------------------

    async def open_gate(
        self, step: str, kind: str, prompt: str, timeout: float | None, default: str
    ) -> Decision:
        """Wait for a decision on ``step`` (or its timeout default)."""
        if step in self.gates:
            raise ValueError(f"approval step {step!r} is already pending")
        now = workflow.now()
        gate = Gate(
            step=step, kind=kind, prompt=prompt,
            opened_at=now.isoformat(timespec="seconds"),
            timeout_at=(now + timedelta(seconds=timeout)).isoformat(timespec="seconds")
            if timeout else None,
            default=default,
        )
        self._gate_serial += 1
        key = f"{step}-{self._gate_serial}"
        self.gates[step] = gate
        self.refresh()
        await self._gate_inbox(gate, key, opened=True)
        try:
            await workflow.wait_condition(
                lambda: step not in self.gates,
                timeout=timedelta(seconds=timeout) if timeout else None,
            )
            decision = self._last_decision(step)
            assert decision is not None
        except TimeoutError:
            decision = Decision(
                step=step, kind=kind, approved=default == "approve", by="timeout",
                reason=f"no decision within {timeout:g}s; default: {default}",
                timed_out=True, decided_at=workflow.now().isoformat(timespec="seconds"),
            )
            self.decisions.append(decision)
            self.gates.pop(step, None)
        self.refresh()
        await self._gate_inbox(gate, key, opened=False)
        return decision

    async def _gate_inbox(self, gate: Gate, key: str, *, opened: bool) -> None:
        info = workflow.info()
        await workflow.execute_local_activity(
            GATE_ACTIVITY,
            GateInboxInput(
                run_id=info.workflow_id, skill=self.skill, key=key, opened=opened,
                step=gate.step, kind=gate.kind, prompt=gate.prompt,
                timeout_at=gate.timeout_at or "", default=gate.default,
                timestamp_iso=workflow.now().isoformat(timespec="seconds"),
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=10),
        )

    # -- budget and usage ----------------------------------------------------------------------

    def worst_case_usd(self, tier: str, prompt_bytes: int | None, max_tokens: int) -> float:
        """The next call's worst case in USD (:func:`sagaflow._engine.budget.worst_case_usd`)."""
        return worst_case_usd(self.config, tier, prompt_bytes, max_tokens, self.last_call_usd)

    async def check_budget(self, next_call_usd: float | None = None) -> None:
        """Park in a budget gate while the next model call could overspend.

        Args:
            next_call_usd: The next call's worst case (:meth:`worst_case_usd`); None
                estimates it from the previous call (runs recorded before the
                worst-case check replay that way).
        """
        if self.budget_usd is None:
            return
        worst = next_call_usd is not None and self._since(1, BUDGET_WORST_CASE_PATCH)
        estimate = next_call_usd if worst and next_call_usd is not None else self.last_call_usd
        while self.budget_usd is not None and (
            self.spent_usd >= self.budget_usd or self.spent_usd + estimate > self.budget_usd
        ):
            if worst:
                prompt = (f"budget reached: {format_usd(self.spent_usd)} of "
                          f"{format_usd(self.budget_usd)} spent")
                if self.spent_usd < self.budget_usd:
                    prompt += f"; the next call may cost up to {format_usd(estimate)}"
            else:
                prompt = f"budget reached: ${self.spent_usd:.2f} of ${self.budget_usd:.2f}"
                if self.spent_usd < self.budget_usd:
                    prompt += f" (the next call may cost about ${self.last_call_usd:.2f})"
            decision = await self.open_gate(BUDGET, BUDGET, prompt, None, "reject")
            if not decision.approved:
                from temporalio.exceptions import ApplicationError

                why = f": {decision.reason}" if decision.reason else ""
                raise ApplicationError(
                    f"{prompt}; the budget was not extended{why}",
                    type="BudgetExceeded", non_retryable=True,
                )

    def record_usage(self, usage: StepUsage) -> None:
        """Count one finished model call (its tokens and, when priced, its cost)."""
        self.calls += 1
        for key, count in usage.tokens().items():
            self.tokens[key] += count
        if usage.cost_usd is not None:
            self.spent_usd += usage.cost_usd
            self.last_call_usd = usage.cost_usd
        self.spent_usd += usage.retried_cost_usd
        self.refresh()

    def record_paid(self, usd: float) -> None:
        """Count what a model step that then failed was billed (its reply was unusable)."""
        if usd > 0:
            self.spent_usd += usd
            self.last_call_usd = max(self.last_call_usd, usd)
            self.refresh()

    def _since(self, revision: int, patch: str) -> bool:
        """Whether this run has the behaviour introduced in ``revision`` (see ``meta.RUN_REVISION``).

        A run launched with that revision in its memo has it, with nothing recorded;
        an older run (no revision) asks ``workflow.patched(patch)``, as it did when
        it was recorded: a marker plus a ``TemporalChangeVersion`` upsert (a visibility
        write) in a new run, the recorded answer on replay.
        """
        return self.revision >= revision or workflow.patched(patch)

    # -- search attributes -------------------------------------------------------------------

    def refresh(self, state: str | None = None) -> None:
        """Upsert state, waiting-on and cost when they changed.

        A change of cost alone is upserted at most every :data:`COST_UPSERT_SECONDS`
        of workflow time: each upsert is a visibility write on the server (about
        4–8 ms of its CPU per model call, measured with ``scripts/bench_cost.py``),
        and the cost rides along with the next change of state (waiting, paused,
        completed, failed...) anyway. The live figure is always in the status query.
        """
        waiting = self.waiting_on()
        if state is None:
            state = "waiting" if self.gates or self.signal_waits or self.questions else (
                "paused" if self.paused else "running"
            )
        cost = round(self.spent_usd, 6)
        wanted: dict[str, Any] = {meta.SA_STATE: state, meta.SA_WAITING: waiting}
        changed = any(self._shown.get(name) != value for name, value in wanted.items())
        now = workflow.now().timestamp()
        if self._shown.get(meta.SA_COST) != cost and (
            changed
            or now - self._cost_shown_at >= COST_UPSERT_SECONDS
            # runs recorded before cost upserts were batched replay the old way
            or not self._since(1, COST_BATCHING_PATCH)
        ):
            wanted[meta.SA_COST] = cost
            self._cost_shown_at = now
        by_name = keys()
        updates = []
        for name, value in wanted.items():
            if self._shown.get(name) == value:
                continue
            self._shown[name] = value
            key = by_name[name]
            updates.append(key.value_unset() if value == "" else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)

    def seen_initial(self) -> None:
        """What launch already set (so the first refresh upserts only changes)."""
        self._shown = {meta.SA_STATE: "running", meta.SA_WAITING: "", meta.SA_COST: 0.0}


def run_options() -> RunOptions:
    """The current run's :class:`~sagaflow._engine.meta.RunOptions` from its memo.

    A run started without them (e.g. by ``temporal workflow start``) gets the
    defaults, with its own task queue as the base queue.
    """
    options = workflow.memo_value(meta.MEMO_OPTIONS, None, type_hint=RunOptions)
    return options if options is not None else RunOptions(base_queue=workflow.info().task_queue)


def current() -> RunControl:
    """The control of the workflow run this code runs in.

    Raises:
        RuntimeError: outside a sagaflow worker (no interceptor installed it).
    """
    control = getattr(workflow.instance(), _ATTR, None)
    if not isinstance(control, RunControl):
        raise RuntimeError(
            "sagaflow's run control is not installed; run this workflow on a sagaflow worker"
        )
    return control
