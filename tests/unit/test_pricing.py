"""The price table: matching model ids, costs, and ``prices:`` in config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow.config import load_settings
from sagaflow.errors import ConfigError
from sagaflow.paths import Home
from sagaflow.pricing import DEFAULT_PRICES, Price, cost_of, format_usd, price_for, price_table


def test_exact_dated_and_unknown_ids() -> None:
    assert price_for("claude-haiku-4-5") == Price(1, 5, 1.25, 0.1)
    assert price_for("claude-sonnet-4-5-20250929") == DEFAULT_PRICES["claude-sonnet-4-5"]
    assert price_for("claude-sonnet-4-5@20250929") == DEFAULT_PRICES["claude-sonnet-4-5"]
    assert price_for("claude-3-5-haiku-latest") == Price(0.8, 4, 1.0, 0.08)
    # the longest key wins: opus 4.5 is not priced as opus 4
    assert price_for("claude-opus-4-5-20251101") == Price(5, 25, 6.25, 0.5)
    assert price_for("claude-opus-4-20250514") == Price(15, 75, 18.75, 1.5)
    # a newer model is never priced as an older neighbour: unknown, not a guess
    assert price_for("claude-opus-4-9") is None
    assert price_for("claude-sonnet-4-5-preview") is None
    assert price_for("gpt-4o") is None


def test_cost_of_counts_every_kind_of_token() -> None:
    usage = {
        "input_tokens": 1_000_000,
        "output_tokens": 100_000,
        "cache_creation_input_tokens": 200_000,
        "cache_read_input_tokens": 1_000_000,
    }
    # sonnet: 3 + 0.1 * 15 + 0.2 * 3.75 + 1 * 0.3
    assert cost_of("claude-sonnet-4-5", usage) == pytest.approx(3 + 1.5 + 0.75 + 0.3)
    assert cost_of("claude-haiku-4-5", {"input_tokens": 12, "output_tokens": 7}) == pytest.approx(
        (12 * 1 + 7 * 5) / 1e6
    )
    assert cost_of("claude-haiku-4-5", {}) == 0.0
    assert cost_of("scripted", usage) == 0.0
    assert cost_of("mystery-model", usage) is None


def test_overrides_merge_over_defaults() -> None:
    table = price_table({
        "claude-haiku-4-5": {"output": 4},
        "claude-sonnet-4-5": {"input": 2},
        "my-model": {"input": 1, "output": 2, "cache_read": 0},
    })
    assert table["claude-haiku-4-5"] == Price(1, 4, 1.25, 0.1)
    # a new input price moves the cache prices with it unless they are given
    assert table["claude-sonnet-4-5"] == Price(2, 15, 2.5, 0.2)
    assert table["my-model"] == Price(1, 2, 1.25, 0.0)
    assert table["claude-opus-4-5"] == DEFAULT_PRICES["claude-opus-4-5"]
    assert cost_of("my-model-20260101", {"output_tokens": 500_000}, table) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"m": {"input": -1, "output": 1}}, "zero or more"),
        ({"m": {"input": "cheap", "output": 1}}, "must be a number"),
        ({"m": {"input": True, "output": 1}}, "must be a number"),
        ({"m": {"input": 1, "output": 1, "cache_hit": 1}}, "unknown key 'cache_hit'"),
        ({"m": {"input": 1}}, "needs 'output'"),
        ({"m": 3}, "must be a mapping"),
    ],
)
def test_bad_price_entries(raw: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        price_table(raw, source="cfg.yaml")
    message = str(caught.value)
    assert needle in message and "'prices.m" in message and "cfg.yaml" in message
    assert "\n" not in message


def test_config_file_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SAGAFLOW_TRANSPORT", "SAGAFLOW_TASK_QUEUE", "TEMPORAL_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    home = Home(tmp_path)
    assert load_settings(home).prices == DEFAULT_PRICES
    home.config_file.write_text(
        "prices:\n  claude-haiku-4-5: {input: 2, output: 10}\n  local-llm: {input: 0, output: 0}\n"
    )
    prices = load_settings(home).prices
    assert prices["claude-haiku-4-5"] == Price(2, 10, 2.5, 0.2)
    assert cost_of("local-llm", {"input_tokens": 10**9}, prices) == 0.0
    home.config_file.write_text("prices:\n  claude-haiku-4-5: {input: -2}\n")
    with pytest.raises(ConfigError, match="zero or more"):
        load_settings(home)
    home.config_file.write_text("prices: [1, 2]\n")
    with pytest.raises(ConfigError, match=r"'prices' .* must be a mapping"):
        load_settings(home)


def test_format_usd() -> None:
    assert format_usd(0.012345) == "$0.0123"
    assert format_usd(0.0) == "$0.0000"
    assert format_usd(1234.5) == "$1,234.50"
    assert format_usd(None) == "-"
    assert format_usd(0.0000001) == "$0.0000001"
    assert format_usd(0.0001) == "$0.0001"
    assert format_usd(0.000012345) == "$0.000012"
