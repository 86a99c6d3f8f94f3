"""Folding a run's Temporal history into run and step state (shared by show and tail).

:class:`HistoryFold` takes history events one at a time (:meth:`HistoryFold.feed`),
keeps the run and its steps (shape: see :mod:`sagaflow.runs.timeline`) and
returns what each event meant as ``{"event": kind, ...}`` dicts (kinds: see
:mod:`sagaflow.runs.follow`). Payloads are decoded only where needed: the
memo, spawn_subagent inputs (for the role) and spawn_subagent results, a
:class:`~sagaflow._engine.model_call.ModelStepResult` (for tokens and cost).
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sagaflow import timestamps
from sagaflow._engine import meta
from sagaflow._engine.model_call import ModelStepResult, StepUsage
from sagaflow.agent import AGENT_TOOL_ACTIVITY, TURN_ACTIVITY
from sagaflow.errors import PayloadStoreError
from sagaflow.pricing import USAGE_KEYS

if TYPE_CHECKING:
    from temporalio.api.common.v1 import Payload
    from temporalio.api.history.v1 import HistoryEvent
    from temporalio.converter import DataConverter

CLOSE_KINDS = {
    "workflow_execution_completed_event_attributes": "completed",
    "workflow_execution_failed_event_attributes": "failed",
    "workflow_execution_canceled_event_attributes": "canceled",
    "workflow_execution_terminated_event_attributes": "terminated",
    "workflow_execution_timed_out_event_attributes": "timed_out",
    "workflow_execution_continued_as_new_event_attributes": "continued_as_new",
}
_STEP_CLOSE = {"completed": "completed", "failed": "failed", "timed_out": "timed_out", "canceled": "canceled"}


def iso(value: datetime | None) -> str | None:
    """Local-time ISO string with milliseconds (None stays None)."""
    return timestamps.iso(value, "milliseconds")


def _when(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


class HistoryFold:
    """Folds history events into run and step state.

    :meth:`feed` returns one dict per meaningful happening (``{"event": kind, ...}``);
    callers that only want the final state ignore them.
    """

    def __init__(self, converter: DataConverter, run_id: str) -> None:
        self.conv = converter
        self.run: dict[str, Any] = {
            "run_id": run_id, "workflow_run_id": None, "skill": None, "workflow_type": None,
            "task_queue": None, "status": "running", "args": {}, "started": None, "closed": None,
            "result": None, "failure": None,
        }
        self.started_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.steps: dict[int, dict[str, Any]] = {}
        self.times: dict[int, datetime] = {}  # scheduled event id -> scheduled time
        self.tokens = dict.fromkeys(USAGE_KEYS, 0)
        self.cost: float | None = None
        self.framework: list[dict[str, Any]] = []
        self.workflow_errors: list[str] = []
        self.signals: list[str] = []
        self.cancel_reason: str | None = None  # the cancel request's reason, once requested
        self.search: dict[str, Any] = {}
        self.decisions: list[dict[str, Any]] = []
        self._updates: dict[str, dict[str, Any]] = {}

    @property
    def open_steps(self) -> list[dict[str, Any]]:
        return [s for s in self.steps.values() if s["closed"] is None]

    async def _value(self, payloads: Any) -> Any:
        """The first payload's value; None when it cannot be decoded, and a one-line note
        (``"(stored outside history: N KiB; why)"``) when it is a payload stored outside
        history that cannot be read back (:mod:`sagaflow._engine.payload_store`)."""
        if not payloads:
            return None
        try:
            values = await self.conv.decode(list(payloads))
            return values[0] if values else None
        except PayloadStoreError as exc:
            from sagaflow._engine.converter import stored_note

            return stored_note(payloads[0], exc)
        except Exception:
            return None

    async def _usage(self, payloads: Any) -> StepUsage | None:
        """The usage of a model step's result (None when it is not a ModelStepResult)."""
        if not payloads:
            return None
        with contextlib.suppress(Exception):
            values = await self.conv.decode(list(payloads))
            return ModelStepResult.from_history(values[0]).usage if values else None
        return None

    async def _turn_usage(self, payloads: Any) -> StepUsage | None:
        """The usage of an agent loop turn (``TurnResult.usage``), None when unreadable."""
        value = await self._value(payloads)
        usage = value.get("usage") if isinstance(value, dict) else None
        if not isinstance(usage, dict):
            return None
        known = {f.name for f in dataclasses.fields(StepUsage)}
        with contextlib.suppress(TypeError):
            return StepUsage(**{k: v for k, v in usage.items() if k in known})
        return None

    async def _agent_role(self, name: str, payloads: Any) -> str | None:
        """``turn N`` for a model turn, the tool's name for a tool call."""
        value = await self._value(payloads)
        if not isinstance(value, dict):
            return None
        if name == TURN_ACTIVITY:
            return f"turn {value.get('turn')}"
        return str(value.get("name") or "") or None

    async def _paid(self, failure: Any) -> tuple[float, str | None]:
        """``paid_usd`` (else 0) and ``stop_reason`` (else None) a failed model step
        reported in its failure's details."""
        info = failure.application_failure_info if failure.HasField(
            "application_failure_info") else None
        if info is None or not info.details.payloads:
            return 0.0, None
        value = await self._value(info.details.payloads)
        if not isinstance(value, dict):
            return 0.0, None
        paid, stop = value.get("paid_usd"), value.get("stop_reason")
        return (float(paid) if isinstance(paid, int | float) else 0.0,
                str(stop) if isinstance(stop, str) and stop else None)

    def _search(self, fields: Any) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        for name, payload in fields.items():
            changed[name] = _search_value(self.conv, payload)
        self.search.update(changed)
        return changed

    async def _reason(self, failure: Any) -> str:
        from sagaflow._engine.failures import failure_reason

        try:
            return failure_reason(await self.conv.decode_failure(failure))
        except Exception:
            return str(failure.message) or "unknown failure"

    def _base(self, kind: str, event: HistoryEvent) -> dict[str, Any]:
        return {"event": kind, "run_id": self.run["run_id"], "event_id": event.event_id,
                "time": iso(_when(event))}

    async def feed(self, event: HistoryEvent) -> list[dict[str, Any]]:
        """Fold one event in; returns the happenings it stands for (maybe none)."""
        kind = event.WhichOneof("attributes") or ""
        if kind.startswith("activity_task_"):
            return await self._activity(kind, event)
        if kind == "workflow_execution_started_event_attributes":
            return await self._started(event)
        if kind in CLOSE_KINDS:
            return await self._closed(kind, event)
        attrs: Any = getattr(event, kind) if kind else None
        out = self._base(kind.removesuffix("_event_attributes"), event)
        if kind == "marker_recorded_event_attributes":
            if attrs.marker_name == PATCH_MARKER:  # workflow.patched's bookkeeping, not a step
                return []
            data = await self._value(attrs.details["data"].payloads) if "data" in attrs.details else None
            name = data.get("activity_type") if isinstance(data, dict) else attrs.marker_name
            self.framework.append({"type": name, "time": out["time"]})
            return [out | {"event": "framework", "type": name}]
        if kind == "upsert_workflow_search_attributes_event_attributes":
            changed = self._search(attrs.search_attributes.indexed_fields)
            if meta.SA_STATE in changed or meta.SA_WAITING in changed:
                return [out | {"event": "state", "state": self.search.get(meta.SA_STATE),
                               "waiting_on": self.search.get(meta.SA_WAITING) or ""}]
            return []
        if kind == "timer_started_event_attributes":
            secs = attrs.start_to_fire_timeout.ToTimedelta().total_seconds()
            fire = iso(_when(event) + timedelta(seconds=secs))
            return [out | {"event": "timer_started", "timer_id": attrs.timer_id, "seconds": secs,
                           "fire_at": fire}]
        if kind == "timer_fired_event_attributes":
            return [out | {"event": "timer_fired", "timer_id": attrs.timer_id}]
        if kind == "workflow_execution_signaled_event_attributes":
            self.signals.append(attrs.signal_name)
            return [out | {"event": "signal", "name": attrs.signal_name}]
        if kind == "workflow_task_failed_event_attributes":
            message = await self._reason(attrs.failure)
            self.workflow_errors.append(message)
            return [out | {"event": "workflow_error", "error": message}]
        if kind == "workflow_execution_cancel_requested_event_attributes":
            self.cancel_reason = attrs.cause
            return [out | {"event": "cancel_requested", "reason": attrs.cause}]
        if kind.startswith("workflow_execution_update_"):
            return await self._update(kind, attrs, out)
        return []

    async def _started(self, event: HistoryEvent) -> list[dict[str, Any]]:
        attrs = event.workflow_execution_started_event_attributes
        memo = {k: await self._value([p]) for k, p in attrs.memo.fields.items()}
        self._search(attrs.search_attributes.indexed_fields)
        self.started_at = _when(event)
        self.run.update(
            workflow_run_id=attrs.original_execution_run_id or None,
            workflow_type=attrs.workflow_type.name, task_queue=attrs.task_queue.name,
            skill=memo.get(meta.MEMO_SKILL) or self.search.get(meta.SA_SKILL) or attrs.workflow_type.name,
            args=memo.get(meta.MEMO_ARGS) or {}, started=iso(self.started_at),
        )
        return [self._base("run_started", event) | {
            "skill": self.run["skill"], "args": self.run["args"], "workflow_type": self.run["workflow_type"],
        }]

    async def _closed(self, kind: str, event: HistoryEvent) -> list[dict[str, Any]]:
        attrs = getattr(event, kind)
        status = CLOSE_KINDS[kind]
        self.closed_at = _when(event)
        self.run.update(status=status, closed=iso(self.closed_at))
        if status == "completed":
            self.run["result"] = await self._value(attrs.result.payloads)
        elif status == "failed":
            self.run["failure"] = await self._reason(attrs.failure)
        elif status == "terminated":
            self.run["failure"] = f"terminated: {attrs.reason or 'no reason given'}"
        elif status == "timed_out":
            self.run["failure"] = "the run reached its timeout"
        elif status == "canceled":
            why = f": {self.cancel_reason}" if self.cancel_reason else ""
            self.run["failure"] = f"the run was cancelled{why}"
        return [self._base("run_finished", event) | {
            "status": status, "result": self.run["result"], "failure": self.run["failure"],
            "duration_seconds": self.duration(), **self.totals(),
        }]

    async def _update(self, kind: str, attrs: Any, out: dict[str, Any]) -> list[dict[str, Any]]:
        if kind.endswith("accepted_event_attributes"):
            req = attrs.accepted_request
            args = await self._value(req.input.args.payloads)
            self._updates[req.meta.update_id] = {"name": req.input.name, "request": args}
            return [out | {"event": "update", "name": req.input.name, "request": args}]
        if not kind.endswith("completed_event_attributes"):
            return []
        pending = self._updates.pop(attrs.meta.update_id, None)
        if pending is None or not attrs.outcome.HasField("success"):
            return []
        if pending["name"] == meta.UPDATE_DECIDE:
            value = await self._value(attrs.outcome.success.payloads)
            request = pending["request"] if isinstance(pending["request"], dict) else {}
            decision = value if isinstance(value, dict) and "approved" in value else dict(request)
            decision.setdefault("decided_at", out["time"])
            self.decisions.append(decision)
            return [out | {"event": "decision", **decision}]
        return []

    async def _activity(self, kind: str, event: HistoryEvent) -> list[dict[str, Any]]:
        attrs = getattr(event, kind)
        when = _when(event)
        if kind == "activity_task_scheduled_event_attributes":
            role = None
            if attrs.activity_type.name == meta.SPAWN_SUBAGENT:
                value = await self._value(attrs.input.payloads)
                role = value.get("role") if isinstance(value, dict) else None
            elif attrs.activity_type.name in (TURN_ACTIVITY, AGENT_TOOL_ACTIVITY):
                role = await self._agent_role(attrs.activity_type.name, attrs.input.payloads)
            step: dict[str, Any] = {
                "id": attrs.activity_id, "type": attrs.activity_type.name, "role": role,
                "status": "scheduled", "scheduled": iso(when), "started": None, "closed": None,
                "offset_seconds": _secs(self.started_at, when), "duration_seconds": None,
                "attempts": 0, "error": None, "next_retry": None, "next_retry_in_seconds": None,
                "model": None, **dict.fromkeys(USAGE_KEYS), "cost_usd": None,
                "stop_reason": None,
            }
            self.steps[event.event_id] = step
            self.times[event.event_id] = when
            return [self._step_event("step_scheduled", event, step)]
        scheduled_id = getattr(attrs, "scheduled_event_id", 0)
        step = self.steps.get(scheduled_id)  # type: ignore[assignment]
        if step is None:
            return []
        if kind == "activity_task_started_event_attributes":
            step.update(status="running", started=iso(when), attempts=attrs.attempt)
            if attrs.HasField("last_failure"):
                step["error"] = attrs.last_failure.message
            return [self._step_event("step_started", event, step) | {"live": False}]
        suffix = kind.removeprefix("activity_task_").removesuffix("_event_attributes")
        if suffix not in _STEP_CLOSE:
            return []  # cancel_requested
        step.update(status=_STEP_CLOSE[suffix], closed=iso(when), next_retry=None,
                    next_retry_in_seconds=None,
                    duration_seconds=_secs(self.times[scheduled_id], when))
        if suffix == "completed":
            if step["type"] == meta.SPAWN_SUBAGENT:
                self._account(step, await self._usage(attrs.result.payloads))
            elif step["type"] == TURN_ACTIVITY:
                self._account(step, await self._turn_usage(attrs.result.payloads))
            return [self._step_event("step_completed", event, step) | {
                "tokens": self.totals()["tokens"], "cost_usd_total": self.cost}]
        if hasattr(attrs, "failure") and attrs.HasField("failure"):
            step["error"] = attrs.failure.message or step["error"]
            paid, stop = await self._paid(attrs.failure)
            step["stop_reason"] = stop or step["stop_reason"]
            if paid:
                step["cost_usd"] = paid
                self.cost = (self.cost or 0.0) + paid
        return [self._step_event("step_failed", event, step)]

    def _account(self, step: dict[str, Any], usage: StepUsage | None) -> None:
        if usage is None:
            return
        step["model"] = usage.model
        step["stop_reason"] = usage.stop_reason or None
        for key, value in usage.tokens().items():
            step[key] = value
            self.tokens[key] += value
        if usage.cost_usd is not None or usage.retried_cost_usd:
            paid = (usage.cost_usd or 0.0) + usage.retried_cost_usd  # the step's every attempt
            step["cost_usd"] = paid
            self.cost = (self.cost or 0.0) + paid

    def _step_event(self, kind: str, event: HistoryEvent, step: dict[str, Any]) -> dict[str, Any]:
        return self._base(kind, event) | {k: step[k] for k in (
            "id", "type", "role", "status", "attempts", "error", "duration_seconds",
            "model", *USAGE_KEYS, "cost_usd", "stop_reason")}

    def totals(self) -> dict[str, Any]:
        """Tokens and cost so far: ``{"tokens": {...}, "cost_usd": float | None}``."""
        return {"tokens": {**self.tokens, "total": sum(self.tokens.values())}, "cost_usd": self.cost}

    def duration(self, now: datetime | None = None) -> float | None:
        end = self.closed_at or now
        return _secs(self.started_at, end) if end else None


#: the marker ``workflow.patched`` records (the SDK's name for it)
PATCH_MARKER = "core_patch"


def _secs(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None


def _search_value(conv: DataConverter, payload: Payload) -> Any:
    try:
        value = conv.payload_converter.from_payload(payload)
    except Exception:
        return None
    if isinstance(value, list):
        return value[0] if len(value) == 1 else (value or None)
    return value
