"""One price table for model calls, in USD per million tokens (MTok).

Defaults follow Anthropic's published list prices (platform.claude.com, "Model
pricing"). Cache writes default to 1.25 x the input price (5-minute TTL) and
cache reads to 0.1 x, unless a model says otherwise. ``config.yaml`` can add
models or override any figure::

    prices:
      claude-sonnet-4-5: {input: 3, output: 15}
      my-proxy-model: {input: 0.5, output: 2, cache_write: 0.6, cache_read: 0.05}

A model id matches its table key exactly, or the longest key it extends with a
snapshot date (``claude-sonnet-4-5-20250929``, Vertex's ``claude-sonnet-4-5@20250929``)
or ``-latest``.
Any other id has no price: its cost is unknown (``None``), never guessed from a
neighbouring model. The scripted transport (model ``scripted``) costs nothing.

Pure module: no Temporal, no I/O; safe to import in workflow code and the CLI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagaflow.errors import ConfigError
from sagaflow.wiretypes import wire

MTOK = 1_000_000
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1
FREE_MODELS = frozenset({"scripted"})
PRICE_KEYS = ("input", "output", "cache_write", "cache_read")
#: the token counts of one model call, as the Messages API ``usage`` object names them;
#: the one list every layer (transports, activities, run control, show/tail) uses
#: (in the order of PRICE_KEYS, the figure each count is priced at)
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
_SNAPSHOT = re.compile(r"[-@]\d{8}|-latest")


@wire
@dataclass(frozen=True)
class Price:
    """USD per million tokens for one model.

    Attributes:
        input: Uncached input tokens.
        output: Output tokens.
        cache_write: Tokens written to the prompt cache.
        cache_read: Tokens read from the prompt cache.
    """

    input: float
    output: float
    cache_write: float
    cache_read: float

    @classmethod
    def of(
        cls,
        input: float,
        output: float,
        cache_write: float | None = None,
        cache_read: float | None = None,
    ) -> Price:
        """A price whose cache figures default to the usual multiples of ``input``."""
        return cls(
            input=float(input),
            output=float(output),
            cache_write=round(input * CACHE_WRITE_FACTOR, 9) if cache_write is None else cache_write,
            cache_read=round(input * CACHE_READ_FACTOR, 9) if cache_read is None else cache_read,
        )

    def as_dict(self) -> dict[str, float]:
        """The four figures by config key."""
        return {key: getattr(self, key) for key in PRICE_KEYS}


DEFAULT_PRICES: dict[str, Price] = {
    "claude-haiku-4-5": Price.of(1, 5),
    "claude-sonnet-4-5": Price.of(3, 15),
    "claude-sonnet-4": Price.of(3, 15),
    "claude-sonnet-4-0": Price.of(3, 15),
    "claude-3-7-sonnet": Price.of(3, 15),
    "claude-opus-4-6": Price.of(5, 25),
    "claude-opus-4-5": Price.of(5, 25),
    "claude-opus-4-1": Price.of(15, 75),
    "claude-opus-4": Price.of(15, 75),
    "claude-opus-4-0": Price.of(15, 75),
    "claude-3-5-haiku": Price.of(0.8, 4),
    "claude-3-haiku": Price.of(0.25, 1.25, cache_write=0.3, cache_read=0.03),
}


def _figure(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number of USD per million tokens, not {value!r}.")
    if value < 0:
        raise ConfigError(f"{where} must be zero or more, not {value!r}.")
    return float(value)


def _entry(model: str, raw: Any, base: Price | None, source: str) -> Price:
    where = f"'prices.{model}' in {source}"
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{where} must be a mapping like {{input: 3, output: 15}}, not {raw!r}; fix the file."
        )
    unknown = sorted(str(k) for k in raw if k not in PRICE_KEYS)
    if unknown:
        raise ConfigError(
            f"{where} has unknown key {unknown[0]!r}; use only {', '.join(PRICE_KEYS)}."
        )
    given = {str(k): _figure(v, f"'prices.{model}.{k}' in {source}") for k, v in raw.items()}
    if base is None:
        missing = [k for k in ("input", "output") if k not in given]
        if missing:
            raise ConfigError(
                f"{where} needs '{missing[0]}' because {model} has no default price; add it."
            )
        return Price.of(**given)
    if "input" in given:  # cache figures follow a new input price unless given too
        return Price.of(
            given["input"], given.get("output", base.output),
            given.get("cache_write"), given.get("cache_read"),
        )
    return Price(**{**base.as_dict(), **given})


def price_table(
    overrides: Mapping[str, Any] | None = None, *, source: str = "config.yaml"
) -> dict[str, Price]:
    """The default table merged with ``prices:`` from the config file.

    Args:
        overrides: Model id -> ``{input, output, cache_write, cache_read}`` (USD per MTok).
        source: Where the overrides came from, for error messages.

    Raises:
        ConfigError: On a malformed entry, an unknown key or a negative figure.
    """
    table = dict(DEFAULT_PRICES)
    for model, raw in (overrides or {}).items():
        name = str(model).strip()
        if not name:
            raise ConfigError(f"'prices' in {source} has an empty model id; fix the file.")
        table[name] = _entry(name, raw, table.get(name), source)
    return table


def price_for(model: str, table: Mapping[str, Price] | None = None) -> Price | None:
    """The price of ``model``: exact id, else the longest key it extends with a date stamp."""
    prices = DEFAULT_PRICES if table is None else table
    if model in prices:
        return prices[model]
    best: str | None = None
    for key in prices:
        if (
            model.startswith(key)
            and _SNAPSHOT.fullmatch(model[len(key):])
            and (best is None or len(key) > len(best))
        ):
            best = key
    return prices[best] if best is not None else None


def cost_of(
    model: str, usage: Mapping[str, int], table: Mapping[str, Price] | None = None
) -> float | None:
    """USD cost of one model call, or ``None`` when the model has no price.

    Args:
        model: The model id the call used (as the provider reported it).
        usage: Token counts keyed like the Messages API ``usage`` object.
        table: Price table (default: :data:`DEFAULT_PRICES`).
    """
    if model in FREE_MODELS:
        return 0.0
    price = price_for(model, table)
    if price is None:
        return None
    total = sum(
        int(usage.get(tokens) or 0) * getattr(price, figure)
        for tokens, figure in zip(USAGE_KEYS, PRICE_KEYS, strict=True)
    )
    return float(total) / MTOK


def format_usd(value: float | None) -> str:
    """``0.01234`` -> ``$0.0123``; ``12.5`` -> ``$12.50``; ``None`` -> ``-``.

    Amounts under $0.0001 keep two significant digits (``1e-7`` -> ``$0.0000001``),
    so a tiny budget never prints as ``$0.0000``.
    """
    if value is None:
        return "-"
    if 0 < abs(value) < 0.0001:
        digits = 1 - math.floor(math.log10(abs(value)))
        return f"${value:.{digits}f}".rstrip("0")
    return f"${value:.4f}" if abs(value) < 10 else f"${value:,.2f}"
