"""The budget check's worst case of one model call (sagaflow._engine.budget), and the
start-size check (sagaflow.runs.payload_size)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from temporalio.converter import DataConverter

from sagaflow._engine.budget import CLAUDE_CLI_OVERHEAD_TOKENS, worst_case_usd
from sagaflow._engine.meta import RunConfig
from sagaflow.errors import UsageError
from sagaflow.pricing import Price
from sagaflow.runs.payload_size import check_start_size

PRICES = {"m": Price(input=3.0, output=15.0, cache_write=0.0, cache_read=0.0)}


def _config(transport: str = "anthropic") -> RunConfig:
    return RunConfig(transport=transport, models={"SONNET": "m"}, prices=PRICES)


def test_input_bound_plus_max_tokens_at_the_tier_price() -> None:
    # 3,000 prompt bytes -> 1,000 tokens at $3/MTok, 1,000 output tokens at $15/MTok
    assert worst_case_usd(_config(), "SONNET", 3000, 1000) == pytest.approx(0.018)


def test_claude_transport_adds_claude_codes_own_prompt() -> None:
    extra = CLAUDE_CLI_OVERHEAD_TOKENS * 3.0 / 1e6
    assert worst_case_usd(_config("claude"), "SONNET", 0, 0) == pytest.approx(extra)


def test_never_less_than_the_last_call_and_free_when_unpriced() -> None:
    assert worst_case_usd(_config(), "SONNET", None, 0, last_call_usd=0.5) == 0.5
    assert worst_case_usd(_config("scripted"), "SONNET", 3000, 1000) == 0.0
    assert worst_case_usd(_config(), "NOPE", 3000, 1000, last_call_usd=0.1) == 0.1
    assert worst_case_usd(None, "SONNET", 3000, 1000) == 0.0


@dataclass
class _Input:
    small: str
    content: str


def test_start_size_names_the_largest_part() -> None:
    converter = DataConverter.default
    small = _Input(small="a", content="b")
    asyncio.run(check_start_size(converter, "r", small, {"args": {"x": "y"}}, {"x": "y"}))
    with pytest.raises(UsageError) as info:
        asyncio.run(check_start_size(converter, "r", _Input("a", "z" * 5000), {}, {}, limit=4000))
    assert "'content'" in str(info.value) and "by path" in str(info.value)
    with pytest.raises(UsageError, match=r"its memo is .*'x'"):
        asyncio.run(check_start_size(converter, "r", small, {"args": {"x": "y" * 5000}},
                                     {"x": "y" * 5000}, limit=4000))
