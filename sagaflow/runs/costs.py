"""``sagaflow cost``: money spent on model calls, summed from Temporal visibility.

Each run carries its spend so far in the ``SagaflowCostUsd`` search attribute
(updated by the worker after every model call), so totals need one list query
over the window and no history reads. Runs without the attribute (started before
it existed, or on a cluster without it) count as runs with no known cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NotRequired, TypedDict

from sagaflow._engine import meta
from sagaflow.errors import UsageError
from sagaflow.runs.listing import RunFilter, build_query, executions, make_filter
from sagaflow.timestamps import iso

if TYPE_CHECKING:
    from temporalio.client import Client

    from sagaflow.config import Settings

GROUPINGS = ("skill", "day")


class CostRow(TypedDict):
    """One group: its key (a skill name or a local ``YYYY-MM-DD``), run count and USD spent."""

    key: str
    runs: int
    cost_usd: float


class CostTotal(TypedDict):
    """All groups together: run count and USD spent."""

    runs: int
    cost_usd: float


class CostReport(TypedDict):
    """``cost --json``: grouping, rows, total and the window's start (local ISO, seconds)."""

    by: str
    rows: list[CostRow]
    total: CostTotal
    since: NotRequired[str]


@dataclass(frozen=True)
class CostRequest:
    """A validated ``cost`` request.

    Attributes:
        filter: The runs to sum (window and skill).
        by: How to group: ``skill`` or ``day`` (local start date).
    """

    filter: RunFilter
    by: str


@dataclass(frozen=True)
class Spend:
    """What one run contributes: its skill, start time and cost (``None`` = unknown)."""

    skill: str
    started: datetime
    cost_usd: float | None


def make_request(*, since: str, by: str, skill: str | None) -> CostRequest:
    """Validate command-line values.

    Raises:
        UsageError: On a bad ``--by``, ``--since`` or ``--skill``.
    """
    key = by.strip().lower()
    if key not in GROUPINGS:
        raise UsageError(f"Unknown --by {by!r}; use one of {', '.join(GROUPINGS)}.")
    return CostRequest(make_filter(since=since, skill=skill, limit=None), key)


def summarize(spends: Iterable[Spend], by: str) -> CostReport:
    """Group spends into ``{"by", "rows": [{key, runs, cost_usd}], "total": {runs, cost_usd}}``.

    Rows by skill are the most expensive first; rows by day are in date order.
    """
    groups: dict[str, list[float]] = {}
    for spend in spends:
        key = spend.skill if by == "skill" else spend.started.astimezone().date().isoformat()
        runs_cost = groups.setdefault(key, [0.0, 0.0])
        runs_cost[0] += 1
        runs_cost[1] += spend.cost_usd or 0.0
    keys = sorted(groups, key=lambda k: (-groups[k][1], k)) if by == "skill" else sorted(groups)
    rows: list[CostRow] = [
        {"key": key, "runs": int(groups[key][0]), "cost_usd": round(groups[key][1], 6)}
        for key in keys
    ]
    total: CostTotal = {
        "runs": int(sum(runs for runs, _ in groups.values())),
        "cost_usd": round(sum(cost for _, cost in groups.values()), 6),
    }
    return {"by": by, "rows": rows, "total": total}


async def cost_report(client: Client, settings: Settings, request: CostRequest) -> CostReport:
    """Spend in the window, grouped; also says the window's start (``since``, local ISO)."""
    now = datetime.now(UTC)
    query = build_query(settings.task_queue, request.filter, now)
    spends: list[Spend] = []
    async for wf in executions(client, query, None):
        skill = cost = None
        for pair in wf.typed_search_attributes:
            if pair.key.name == meta.SA_SKILL:
                skill = pair.value
            elif pair.key.name == meta.SA_COST:
                cost = pair.value
        if skill is None:
            skill = (await wf.memo()).get(meta.MEMO_SKILL) or wf.workflow_type
        spends.append(Spend(str(skill), wf.start_time, float(cost) if cost is not None else None))
    report = summarize(spends, request.by)
    seconds = request.filter.since_seconds or 0.0
    report["since"] = iso(now - timedelta(seconds=seconds))
    return report
