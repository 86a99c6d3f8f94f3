"""``sagaflow cost``: grouping (pure) and totals through the real CLI."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from fake_anthropic import FakeAnthropic
from sandbox import Sandbox

from sagaflow.errors import UsageError
from sagaflow.runs.costs import Spend, make_request, summarize


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour).astimezone()


SPENDS = [
    Spend("a", _at(1), 0.5),
    Spend("b", _at(1), 1.25),
    Spend("a", _at(2), 0.25),
    Spend("c", _at(2), None),
]


def test_summarize_by_skill_and_day() -> None:
    by_skill = summarize(SPENDS, "skill")
    assert by_skill["rows"] == [
        {"key": "b", "runs": 1, "cost_usd": 1.25},
        {"key": "a", "runs": 2, "cost_usd": 0.75},
        {"key": "c", "runs": 1, "cost_usd": 0.0},
    ]
    assert by_skill["total"] == {"runs": 4, "cost_usd": 2.0}
    by_day = summarize(SPENDS, "day")
    assert by_day["rows"] == [
        {"key": "2026-03-01", "runs": 2, "cost_usd": 1.75},
        {"key": "2026-03-02", "runs": 2, "cost_usd": 0.25},
    ]
    assert summarize([], "day") == {"by": "day", "rows": [], "total": {"runs": 0, "cost_usd": 0.0}}


def test_request_validation() -> None:
    request = make_request(since="7d", by="Day", skill=None)
    assert request.by == "day" and request.filter.since_seconds == 7 * 86400
    assert request.filter.limit is None
    with pytest.raises(UsageError, match="Unknown --by 'model'"):
        make_request(since="7d", by="model", skill=None)
    with pytest.raises(UsageError, match="--since"):
        make_request(since="a week", by="skill", skill=None)


def test_cost_totals_through_cli(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    """Needs the SagaflowCostUsd upsert each run carries when it ends."""
    for name in ("ann", "ben"):
        sf.run("launch", "hello-world", "--name", name, "--await", check=True)
    report = json.loads(sf.run("cost", "--json", check=True).stdout)
    assert set(report) == {"by", "rows", "total", "since"}
    assert report["by"] == "skill"
    [row] = report["rows"]
    assert row["key"] == "hello-world" and row["runs"] == 2
    assert row["cost_usd"] > 0 and report["total"] == {"runs": 2, "cost_usd": row["cost_usd"]}
    # the listed per-run costs add up to the total
    listed = json.loads(sf.run("list", "--json", check=True).stdout)
    assert sum(r["cost_usd"] for r in listed) == pytest.approx(row["cost_usd"], abs=1e-6)

    by_day = json.loads(sf.run("cost", "--by", "day", "--since", "1h", "--json", check=True).stdout)
    assert [r["runs"] for r in by_day["rows"]] == [2]
    assert by_day["rows"][0]["key"] == datetime.now().astimezone().date().isoformat()
    other = json.loads(sf.run("cost", "--skill", "other-skill", "--json", check=True).stdout)
    assert other["rows"] == [] and other["total"] == {"runs": 0, "cost_usd": 0.0}

    human = sf.run("cost", check=True).stdout.splitlines()
    assert human[0].split() == ["SKILL", "RUNS", "COST"]
    assert human[1].split()[:2] == ["hello-world", "2"] and human[2].split()[:2] == ["total", "2"]
    assert human[2].split()[2].startswith("$")

    bad = sf.run("cost", "--by", "model")
    assert bad.returncode == 2 and bad.stderr.startswith("sagaflow: Unknown --by 'model'")
