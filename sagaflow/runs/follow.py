"""Live progress of one run (``sagaflow tail``, reusable by ``launch --await``).

:func:`follow` long-polls the run's history (``wait_new_event``): each event
arrives when Temporal writes it, with no polling loop. Temporal writes an
activity's *started* event only when the attempt ends, so retries in progress
are invisible in history; while a step has been open for a while with no new
event, one ``describe`` per :data:`WATCH_INTERVAL` reports its attempts (no RPC
per event, none at all for quick steps).

Every happening is an :class:`Event` ``{"event": kind, "run_id", "event_id", "time", ...}``
handed to ``on_event``; :func:`format_event` turns one into a human line. Kinds:

=================  ============================================================
``run_started``    skill, args, workflow_type
``step_scheduled`` id, type, role (and the step fields below)
``step_started``   attempt in ``attempts``; ``live`` (seen running via describe)
``step_retry``     an attempt failed: attempts (the next attempt), error,
                   next_retry (ISO)
``step_completed`` duration_seconds, model, the step's token fields, cost_usd and stop_reason;
                   running totals so far in ``tokens`` (dict) and ``cost_usd_total``
``step_failed``    status (failed | timed_out | canceled), error
``timer_started``  timer_id, seconds, fire_at;  ``timer_fired``: timer_id
``state``          state, waiting_on (SagaflowState / SagaflowWaiting upserts)
``signal``         name;  ``update``: name, request;  ``decision``: a gate decision
``framework``      type (a local activity such as sagaflow_finalize_run)
``workflow_error`` error (a workflow task failed: a bug in the skill's code)
``cancel_requested`` reason
``run_finished``   status, result, failure, duration_seconds, tokens, cost_usd
=================  ============================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Required, TypedDict, cast

from sagaflow.runrecord import check_run_id
from sagaflow.runs import missing
from sagaflow.runs.historyfold import HistoryFold, iso

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHandle

#: seconds a step must be open with no new event before describe is asked, and between asks
WATCH_INTERVAL = 1.0
#: pause between long polls at the live edge, so one answer carries several events (an
#: unpaced tail cost a 100-step run about 16 % here, paced about 1 %); lines are <= PACE late
PACE = 0.2
#: a page this long means we are catching up on history: fetch the next one at once
CATCH_UP_PAGE = 100



class Event(TypedDict, total=False):
    """One happening (``tail --json`` prints each as one JSON line); keys by kind above.

    Every happening has ``event``, ``run_id``, ``event_id`` (None when seen through
    ``describe``) and ``time`` (local ISO); step kinds carry the step fields of
    :class:`sagaflow.runs.timeline.Step`; ``decision`` carries a gate decision's fields.
    """

    event: Required[str]
    run_id: str
    event_id: int | None
    time: str | None
    skill: str | None
    args: dict[str, Any]
    workflow_type: str | None
    id: str
    type: str
    role: str | None
    status: str
    attempts: int
    error: str | None
    duration_seconds: float | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None
    cost_usd: float | None
    stop_reason: str | None
    live: bool
    next_retry: str | None
    tokens: dict[str, int]
    cost_usd_total: float | None
    timer_id: str
    seconds: float
    fire_at: str | None
    state: str | None
    waiting_on: str
    name: str
    request: Any
    reason: str
    result: Any
    failure: str | None
    step: str
    kind: str
    approved: bool
    by: str
    comment: str
    timed_out: bool
    decided_at: str
    extend_budget_usd: float


EventCallback = Callable[[Event], None]


async def follow(
    client: Client, run_id: str, on_event: EventCallback, *, pace: float = PACE
) -> Event:
    """Report the run's whole story, then its progress, until it closes.

    Args:
        client: A connected Temporal client.
        run_id: The run (workflow id; its latest execution is followed).
        on_event: Called with each happening, in order.
        pace: Seconds between long polls at the live edge.

    Returns:
        The ``run_finished`` happening.

    Raises:
        RunNotFoundError: when Temporal has no run with that id.
        UsageError: ``run_id`` is not a usable id.
    """
    check_run_id(run_id)
    handle = client.get_workflow_handle(run_id)
    fold = HistoryFold(client.data_converter, run_id)
    watcher = _Watcher(handle, fold, on_event)
    watch = asyncio.create_task(watcher.run())
    finished: Event | None = None
    pages = handle.fetch_history_events(wait_new_event=True)
    try:
        while True:
            await pages.fetch_next_page()
            events = pages.current_page or []
            if events:
                watcher.seen()
            for event in events:
                for happening in cast("list[Event]", await fold.feed(event)):
                    if happening["event"] == "step_started" and watcher.already(happening):
                        continue
                    on_event(happening)
                    if happening["event"] == "run_finished":
                        finished = happening
            if pages.next_page_token is None:
                break
            if len(events) < CATCH_UP_PAGE:  # at the live edge: let events gather
                await asyncio.sleep(pace)
    except Exception as exc:
        if missing.is_not_found(exc):
            raise missing.run_not_found(run_id) from None
        raise
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
    if finished is None:  # the history ended without a close event (should not happen)
        totals = fold.totals()
        finished = {"event": "run_finished", "run_id": run_id, "status": fold.run["status"],
                    "result": None, "failure": None, "tokens": totals["tokens"],
                    "cost_usd": totals["cost_usd"]}
    return finished


class _Watcher:
    """Asks ``describe`` about steps that stay open, to report live starts and retries."""

    def __init__(self, handle: WorkflowHandle[Any, Any], fold: HistoryFold, on_event: EventCallback):
        self.handle, self.fold, self.on_event = handle, fold, on_event
        self.last_event = time.monotonic()
        self.reported: set[tuple[str, int, str]] = set()  # (step id, attempt, kind)

    def seen(self) -> None:
        self.last_event = time.monotonic()

    def already(self, happening: Event) -> bool:
        """Whether a history step_started repeats one reported live (keeps it otherwise)."""
        key = (happening["id"], happening["attempts"], "started")
        if key in self.reported:
            return True
        self.reported.add(key)
        return False

    async def run(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if not self.fold.open_steps or time.monotonic() - self.last_event < WATCH_INTERVAL:
                continue
            with contextlib.suppress(Exception):
                desc = await self.handle.describe()
                self._report(desc.raw_description.pending_activities)

    def _report(self, pending: Any) -> None:
        open_steps = {s["id"]: s for s in self.fold.open_steps}
        for act in pending:
            step = open_steps.get(act.activity_id)
            if step is None:
                continue
            base: Event = {"event": "", "run_id": self.fold.run["run_id"], "event_id": None,
                           "id": step["id"], "type": step["type"], "role": step["role"],
                           "time": iso(datetime.now(UTC))}
            failure = act.last_failure.message if act.HasField("last_failure") else ""
            if act.attempt > 1 and failure and (step["id"], act.attempt, "retry") not in self.reported:
                self.reported.add((step["id"], act.attempt, "retry"))
                nxt = (iso(act.next_attempt_schedule_time.ToDatetime(tzinfo=UTC))
                       if act.HasField("next_attempt_schedule_time") else None)
                self.on_event(base | {"event": "step_retry", "status": "pending_retry",
                                      "attempts": act.attempt, "error": failure, "next_retry": nxt})
            if int(act.state) == 2 and (step["id"], act.attempt, "started") not in self.reported:
                self.reported.add((step["id"], act.attempt, "started"))
                self.on_event(base | {"event": "step_started", "status": "running",
                                      "attempts": act.attempt, "error": failure or None, "live": True})


def _money(value: Any) -> str:
    from sagaflow.pricing import format_usd

    return format_usd(float(value)) if isinstance(value, int | float) else ""


def _label(ev: Event) -> str:
    role = f"({ev['role']})" if ev.get("role") else ""
    return f"#{ev['id']} {ev['type']}{role}"


def format_event(ev: Event) -> str | None:
    """One human line for a happening (None for those not worth a line)."""
    kind = ev["event"]
    stamp = (ev.get("time") or "")[11:23]
    text: str | None = None
    if kind == "run_started":
        text = f"run {ev['run_id']} started: {ev['skill']} {_args(ev.get('args'))}".rstrip()
    elif kind == "step_scheduled":
        text = f"{_label(ev)} scheduled"
    elif kind == "step_started":
        if ev.get("live") or ev["attempts"] > 1:
            text = f"{_label(ev)} running (attempt {ev['attempts']})"
    elif kind == "step_retry":
        error, nxt = ev.get("error") or "", ev.get("next_retry")
        text = f"{_label(ev)} attempt {ev['attempts'] - 1} failed: {error.rstrip('.')}; retrying"
        if nxt:
            text += f" at {nxt[11:19]}"
    elif kind == "step_completed":
        text = f"{_label(ev)} completed +{ev['duration_seconds']:.2f}s"
        if ev["attempts"] > 1:
            text += f" after {ev['attempts']} attempts"
        if ev.get("input_tokens") is not None or ev.get("output_tokens") is not None:
            tokens = (ev.get("input_tokens") or 0) + (ev.get("output_tokens") or 0)
            text += f" · {tokens} tokens {_money(ev.get('cost_usd'))}".rstrip()
            text += f" · total {ev['tokens']['total']} tokens {_money(ev.get('cost_usd_total'))}".rstrip()
        if ev.get("stop_reason") not in (None, "", "end_turn"):
            text += f" · stop_reason {ev['stop_reason']}"
    elif kind == "step_failed":
        text = f"{_label(ev)} {ev['status']} (attempt {ev['attempts']}): {ev['error'] or 'no message'}"
    elif kind == "timer_started":
        text = f"waiting {ev['seconds']:g}s (timer {ev['timer_id']}, until {(ev['fire_at'] or '')[11:19]})"
    elif kind == "timer_fired":
        text = f"timer {ev['timer_id']} fired"
    elif kind == "state":
        waiting = f", waiting on {ev['waiting_on']}" if ev["waiting_on"] else ""
        text = f"state {ev['state'] or '-'}{waiting}"
    elif kind in ("signal", "update"):
        text = f"{kind} {ev['name']} received"
    elif kind == "decision":
        verdict = "approved" if ev.get("approved") else "rejected"
        text = f"gate {ev.get('step') or '-'} {verdict}" + (f" by {ev['by']}" if ev.get("by") else "")
    elif kind == "workflow_error":
        text = f"workflow task failed: {ev['error']}"
    elif kind == "cancel_requested":
        text = "cancellation requested"
    elif kind == "run_finished":
        text = _finished(ev)
    return f"{stamp} {text}" if text else None


def _args(args: Any) -> str:
    if not isinstance(args, dict):
        return ""
    from sagaflow.skills.args import EXTRA, skill_view

    view = skill_view({str(k): str(v) for k, v in args.items()})
    words = view.pop(EXTRA, [])  # free text, after the options
    return " ".join([*(f"--{k} {v}" for k, v in view.items()), *words])


def _finished(ev: Event) -> str:
    secs = ev.get("duration_seconds")
    text = f"run {ev['status']}" + (f" in {secs:.2f}s" if isinstance(secs, float) else "")
    total = ev.get("tokens", {}).get("total")
    if total:
        text += f" · {total} tokens {_money(ev.get('cost_usd'))}".rstrip()
    if ev.get("failure"):
        text += f": {ev['failure']}"
    elif ev.get("result") is not None:
        result = ev["result"]
        text += f": {result}" if isinstance(result, str) else f": {json.dumps(result, default=str)}"
    return text
