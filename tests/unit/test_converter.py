"""sagaflow's one data converter (sagaflow._engine.converter): pydantic models in and out,
everything else exactly as Temporal's default, large payloads stored under the home, and
the ``payloads.store_above_kib`` setting."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.converter import DataConverter

from sagaflow._engine.converter import data_converter, inline_size, is_stored_reference
from sagaflow.config import Settings, load_settings
from sagaflow.errors import ConfigError, UsageError
from sagaflow.paths import Home
from sagaflow.runs.payload_size import check_start_size

REPO = Path(__file__).resolve().parents[2]


class Review(BaseModel):
    title: str
    score: float
    at: datetime
    tags: list[str] = []


@dataclasses.dataclass
class Plain:
    name: str
    count: int
    nested: dict[str, list[int]]


@dataclasses.dataclass
class Holder:
    review: Review
    note: str = ""


def _converter(tmp_path: Path, **settings: Any) -> DataConverter:
    return data_converter(Home(tmp_path), Settings(**settings))


def _round(conv: DataConverter, value: Any, hint: Any = None) -> tuple[bytes, Any]:
    async def go() -> tuple[bytes, Any]:
        payloads = await conv.encode([value])
        decoded = await conv.decode(payloads, [hint] if hint is not None else None)
        return payloads[0].data, decoded[0]
    return asyncio.run(go())


REVIEW = Review(title="t", score=0.5, at=datetime(2026, 11, 29, 12, tzinfo=UTC), tags=["a"])


@pytest.mark.parametrize(("value", "hint", "expected"), [
    (REVIEW, Review, REVIEW),
    ([REVIEW, REVIEW], list[Review], [REVIEW, REVIEW]),
    (None, Review | None, None),
    (REVIEW, Review | None, REVIEW),
    ({"best": REVIEW}, dict[str, Review], {"best": REVIEW}),
    (Holder(REVIEW, "n"), Holder, Holder(REVIEW, "n")),
])
def test_pydantic_models_round_trip_by_their_type_hint(tmp_path: Path, value: Any, hint: Any,
                                                       expected: Any) -> None:
    assert _round(_converter(tmp_path), value, hint)[1] == expected


def test_a_model_without_a_hint_decodes_as_its_json_data(tmp_path: Path) -> None:
    data, value = _round(_converter(tmp_path), REVIEW)
    assert value == {"title": "t", "score": 0.5, "at": "2026-11-29T12:00:00Z", "tags": ["a"]}
    assert data == b'{"at":"2026-11-29T12:00:00Z","score":0.5,"tags":["a"],"title":"t"}'


def test_a_value_that_breaks_its_model_fails_to_decode(tmp_path: Path) -> None:
    conv = _converter(tmp_path)
    payloads = asyncio.run(conv.encode([{"title": "t", "score": "high", "at": "x"}]))
    with pytest.raises(Exception, match="validation error"):
        asyncio.run(conv.decode(payloads, [Review]))


@pytest.mark.parametrize(("value", "hint"), [
    (Plain("a", 2, {"k": [1, 2]}), Plain),
    ({"x": 1, "y": [1.5, None, "z"]}, None),
    ("hello", str),
    (datetime(2026, 1, 2, tzinfo=UTC), None),
    (b"\x00raw", bytes),
    (None, None),
    ([Plain("b", 3, {})], list[Plain]),
])
def test_everything_else_is_encoded_and_decoded_as_temporals_default(
        tmp_path: Path, value: Any, hint: Any) -> None:
    ours, default = _converter(tmp_path), DataConverter.default

    async def both() -> None:
        mine, theirs = await ours.encode([value]), await default.encode([value])
        assert mine == theirs  # byte for byte: committed histories and runs in flight decode
        hints = [hint] if hint is not None else None
        assert await ours.decode(mine, hints) == await default.decode(theirs, hints)
    asyncio.run(both())


def test_payloads_over_the_threshold_leave_history_and_come_back(tmp_path: Path) -> None:
    conv = _converter(tmp_path, payload_store_bytes=1024)

    async def go() -> None:
        small, big = await conv.encode(["s" * 100]), await conv.encode(["b" * 5000])
        assert not is_stored_reference(small[0]) and is_stored_reference(big[0])
        assert big[0].ByteSize() < 500 and big[0].external_payloads[0].size_bytes > 5000
        assert await conv.decode(big) == ["b" * 5000]
    asyncio.run(go())
    assert len(list((tmp_path / "payloads").rglob("*"))) == 3  # _none/_none/<sha256>


def test_storing_off_keeps_payloads_inline_but_still_reads_references(tmp_path: Path) -> None:
    storing = _converter(tmp_path, payload_store_bytes=1024)
    reading = _converter(tmp_path, payload_store_bytes=None)
    stored = asyncio.run(storing.encode(["q" * 5000]))
    assert asyncio.run(reading.decode(stored)) == ["q" * 5000]
    assert not is_stored_reference(asyncio.run(reading.encode(["q" * 5000]))[0])


def test_one_converter_per_home_and_threshold(tmp_path: Path) -> None:
    assert _converter(tmp_path) is _converter(tmp_path)
    assert _converter(tmp_path) is not _converter(tmp_path, payload_store_bytes=None)


def test_start_size_counts_stored_payloads_as_references_and_stores_nothing(tmp_path: Path) -> None:
    conv = _converter(tmp_path)
    big = Plain("a", 1, {"k": list(range(600_000))})  # about 4 MB of JSON
    asyncio.run(check_start_size(conv, "r", big, {"args": {"x": "y"}}, {"x": "y"}))
    assert not (tmp_path / "payloads").exists()
    assert inline_size(conv, conv.payload_converter.to_payloads([big])) < 1000
    with pytest.raises(UsageError, match=r"over the 2\.0 MB"):  # nothing stored: all counts
        asyncio.run(check_start_size(_converter(tmp_path, payload_store_bytes=None), "r", big,
                                     {}, {}))


def test_start_size_names_a_models_largest_field(tmp_path: Path) -> None:
    review = Review(title="x" * 3_000_000, score=1, at=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(UsageError, match=r"its largest part is 'title' \(2.9 MB\)"):
        asyncio.run(check_start_size(_converter(tmp_path, payload_store_bytes=None), "r", review,
                                     {}, {"topic": "t"}))


def test_pydantic_is_not_imported_for_values_without_models(tmp_path: Path) -> None:
    """launch's process never pays for pydantic when its skill does not use it."""
    script = (
        "import asyncio, sys, dataclasses\n"
        "from sagaflow._engine.converter import data_converter\n"
        "from pathlib import Path\nfrom sagaflow.config import Settings\nfrom sagaflow.paths import Home\n"
        "@dataclasses.dataclass\nclass In:\n    name: str\n"
        f"c = data_converter(Home(Path({str(tmp_path)!r})), Settings())\n"
        "p = asyncio.run(c.encode([In('a'), {'k': [1]}, 'x' * 100000]))\n"
        "assert asyncio.run(c.decode(p, [In, dict, str]))[0] == In('a')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("text", "env", "expected"), [
    ("", None, 64 * 1024),
    ("payloads: {store_above_kib: 256}\n", None, 256 * 1024),
    ("payloads: {store_above_kib: 0.5}\n", None, 512),
    ("payloads: {store_above_kib: off}\n", None, None),
    ("payloads: {store_above_kib: 256}\n", "8", 8 * 1024),
    ("", "off", None),
])
def test_the_threshold_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                               env: str | None, expected: int | None) -> None:
    (tmp_path / "config.yaml").write_text(text)
    if env is None:
        monkeypatch.delenv("SAGAFLOW_PAYLOAD_STORE_KIB", raising=False)
    else:
        monkeypatch.setenv("SAGAFLOW_PAYLOAD_STORE_KIB", env)
    assert load_settings(Home(tmp_path)).payload_store_bytes == expected


@pytest.mark.parametrize(("text", "message"), [
    ("payloads: {store_above_kib: lots}\n", "must be a number"),
    ("payloads: {store_above_kib: -1}\n", "must be positive"),
    ("payloads: {threshold: 5}\n", "'payloads.threshold' .* is unknown; use store_above_kib"),
])
def test_a_bad_threshold_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            text: str, message: str) -> None:
    monkeypatch.delenv("SAGAFLOW_PAYLOAD_STORE_KIB", raising=False)
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(Home(tmp_path))
    assert os.environ.get("SAGAFLOW_PAYLOAD_STORE_KIB") is None


def test_a_bad_threshold_in_the_environment_names_the_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGAFLOW_PAYLOAD_STORE_KIB", "big")
    with pytest.raises(ConfigError, match="'SAGAFLOW_PAYLOAD_STORE_KIB' in the environment must"):
        load_settings(Home(tmp_path))
