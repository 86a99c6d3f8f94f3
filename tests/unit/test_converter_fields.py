"""The converter's cached dataclass decoding (sagaflow._engine.typed_decode._DataclassFields):
the same values and errors as Temporal's default ``value_to_type``, hints resolved once per
class, values of the exact type taken as they are, and the cache entry gone with its class."""

from __future__ import annotations

import dataclasses
import gc
import json
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import value_to_type

from sagaflow._engine import converter, typed_decode
from sagaflow._engine.converter import ModelAwareJSONConverter
from sagaflow._engine.meta import RunConfig
from sagaflow._engine.model_call import ModelStepResult, StepUsage
from sagaflow.pricing import Price


@dataclasses.dataclass(frozen=True)
class Inner:
    n: int
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Outer:
    name: str
    inner: Inner
    maybe: Inner | None = None
    by_key: dict[str, Inner] = dataclasses.field(default_factory=dict)
    derived: int = dataclasses.field(default=0, init=False)


#: one instance, as a worker has (it also keeps its verdicts on pydantic per hint)
_CONVERTER = ModelAwareJSONConverter()


def _decode(value: Any, hint: Any) -> Any:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())
    return _CONVERTER.from_payload(payload, hint)


def test_values_match_the_default_decoding() -> None:
    raw = {"name": "a", "inner": {"n": 1, "tags": ["x"]}, "maybe": None,
           "by_key": {"k": {"n": 2}}, "derived": 7, "unknown": "ignored"}
    got = _decode(raw, Outer)
    assert got == value_to_type(Outer, raw)
    assert got.inner == Inner(1, ["x"]) and got.by_key == {"k": Inner(2)}
    assert got.derived == 7  # an init=False field is restored, as by default
    config = RunConfig(transport="scripted", models={"HAIKU": "m"},
                       prices={"m": Price(1.0, 2.0, 1.25, 0.1)}, skill_dir="/s")
    assert _decode(dataclasses.asdict(config), RunConfig) == config
    result = ModelStepResult(output={"a": "b"}, usage=StepUsage(model="m", transport="scripted",
                                                               input_tokens=3, cost_usd=0.5))
    assert _decode(dataclasses.asdict(result), ModelStepResult) == result


def test_errors_match_the_default() -> None:
    with pytest.raises(TypeError, match="field inner on dataclass"):
        _decode({"name": "a", "inner": {"n": "not a number"}}, Outer)
    with pytest.raises(TypeError):  # a required field missing: the constructor says so
        _decode({"name": "a"}, Outer)
    with pytest.raises(TypeError, match="not dict"):
        _decode(["a"], Outer)


@dataclasses.dataclass
class Plain:
    text: str = ""
    count: int = 0
    ratio: float = 0.0
    flag: bool = False
    cost: float | None = None
    label: str | None = None
    either: int | float = 0
    fields: dict[str, str] = dataclasses.field(default_factory=dict)


@pytest.mark.parametrize("raw", [
    {"text": "a", "count": 2, "ratio": 0.5, "flag": True, "cost": 1.5, "label": None,
     "either": 2.5, "fields": {"k": "v"}},
    {"count": 2.7, "ratio": 1, "cost": 3, "flag": False, "either": 1, "label": "x"},
    {"count": True, "ratio": True, "fields": {}, "cost": None},
])
def test_plain_fields_match_the_default(raw: dict[str, Any]) -> None:
    """Taken as they are when of the exact type; converted as by default otherwise (an int
    for a float field becomes a float, 2.7 for an int field 2, ``int | float`` by its
    first member)."""
    got = typed_decode.to_type(Plain, raw)
    want = value_to_type(Plain, raw)
    assert got == want
    assert [type(getattr(got, f.name)) for f in dataclasses.fields(Plain)] == [
        type(getattr(want, f.name)) for f in dataclasses.fields(Plain)]
    assert _decode(raw, Plain) == want


@pytest.mark.parametrize("raw", [
    {"text": 1}, {"count": "1"}, {"flag": 1}, {"cost": "1"}, {"label": 2},
    {"fields": {"k": 1}}, {"fields": ["k"]}, {"ratio": None},
])
def test_plain_field_errors_match_the_default(raw: dict[str, Any]) -> None:
    with pytest.raises(TypeError) as default:
        value_to_type(Plain, raw)
    with pytest.raises(TypeError) as ours:
        typed_decode.to_type(Plain, raw)
    assert str(ours.value) == str(default.value)
    assert str(ours.value.__cause__) == str(default.value.__cause__)


def test_a_string_map_is_copied() -> None:
    """``dict[str, str]`` gives a new dict, as by default: the decoded value owns it."""
    given = {"k": "v"}
    assert typed_decode.to_type(Plain, {"fields": given}).fields is not given


def test_hints_are_resolved_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = typed_decode.typing.get_type_hints

    def counting(obj: Any, *a: Any, **k: Any) -> Any:
        calls.append(obj)
        return real(obj, *a, **k)

    @dataclasses.dataclass
    class Fresh:
        inner: Inner

    monkeypatch.setattr(typed_decode.typing, "get_type_hints", counting)
    assert _decode({"inner": {"n": 0}}, Fresh) == Fresh(Inner(0))
    assert Fresh in calls
    calls.clear()
    for n in range(1, 5):
        assert _decode({"inner": {"n": n}}, Fresh) == Fresh(Inner(n))
    assert calls == []


def test_the_entry_goes_with_its_class() -> None:
    """The workflow sandbox re-imports classes per run: the cache must not keep them."""
    def make() -> type:
        @dataclasses.dataclass
        class Short:
            n: int
        return Short

    short = make()
    # a converter of its own: the shared one's pydantic verdicts keep the hints they saw
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b'{"n": 1}')
    assert ModelAwareJSONConverter().from_payload(payload, short).n == 1
    assert short in typed_decode._FIELDS
    del short
    gc.collect()
    assert not [c for c in typed_decode._FIELDS if c.__name__ == "Short"]
    again = make()  # the same source, a new class: its own entry, its own hints
    assert isinstance(_decode({"n": 2}, again), again)


def test_unresolvable_hints_are_left_to_the_default() -> None:
    @dataclasses.dataclass
    class Dangling:
        ref: NoSuchName  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(NameError):  # the default's own failure, nothing cached
        _decode({"ref": 1}, Dangling)
    assert Dangling not in typed_decode._FIELDS


def _payload(value: Any) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


def test_a_shared_class_is_decoded_once_per_distinct_payload() -> None:
    """RunConfig goes with every step of a run: identical bytes give the same object,
    other bytes their own, and ``RunConfig | None`` shares too."""
    one = dataclasses.asdict(RunConfig(transport="scripted", skill_dir="/a"))
    other = dataclasses.asdict(RunConfig(transport="scripted", skill_dir="/b"))
    first = _CONVERTER.from_payload(_payload(one), RunConfig | None)
    assert first == RunConfig(transport="scripted", skill_dir="/a")
    assert _CONVERTER.from_payload(_payload(one), RunConfig | None) is first
    assert _CONVERTER.from_payload(_payload(one), RunConfig) == first
    second = _CONVERTER.from_payload(_payload(other), RunConfig | None)
    assert second.skill_dir == "/b" and second is not first
    assert _CONVERTER.from_payload(_payload(None), RunConfig | None) is None
    plain = {"name": "a", "inner": {"n": 1}}  # an ordinary class: a new object each time
    assert _decode(plain, Outer) is not _decode(plain, Outer)


def test_the_shared_cache_is_bounded() -> None:
    converter._SHARED.clear()
    for n in range(converter.SHARED_MAX + 5):
        payload = _payload(dataclasses.asdict(RunConfig(transport="scripted", workspace=str(n))))
        assert _CONVERTER.from_payload(payload, RunConfig).workspace == str(n)
    assert 0 < len(converter._SHARED) <= converter.SHARED_MAX


def test_a_shared_value_is_encoded_once_per_object() -> None:
    """The same RunConfig object gives the bytes it gave before (without encoding it
    again); an equal or a different object its own encoding; the bytes are the default's."""
    from temporalio.converter import JSONPlainPayloadConverter

    config = RunConfig(transport="scripted", models={"HAIKU": "m"},
                       prices={"m": Price(1.0, 2.0, 1.25, 0.1)}, skill_dir="/s")
    first = _CONVERTER.to_payload(config)
    assert first == JSONPlainPayloadConverter().to_payload(config)
    assert converter._ENCODED[id(config)][1] == first.data
    assert _CONVERTER.to_payload(config) == first
    other = RunConfig(transport="claude", skill_dir="/t")
    assert _CONVERTER.to_payload(other) == JSONPlainPayloadConverter().to_payload(other)
    converter._ENCODED[id(config)] = (converter._ENCODED[id(config)][0], b"stale")
    assert _CONVERTER.to_payload(config).data == b"stale"  # taken as remembered, by identity
    del converter._ENCODED[id(config)]
    address = id(other)
    del other
    gc.collect()
    assert converter._ENCODED[address][0]() is None  # a later object here is not taken for it


def test_dataclasses_encode_to_the_default_bytes() -> None:
    """Encoding walks a dataclass's fields instead of ``asdict``: byte for byte the same."""
    import datetime
    import uuid
    from collections import namedtuple

    from temporalio.converter import JSONPlainPayloadConverter

    pair = namedtuple("pair", "a b")

    @dataclasses.dataclass
    class Mixed:
        when: datetime.datetime
        ids: tuple[uuid.UUID, ...]
        pairs: list[Any]
        nested: dict[str, Any]
        frozen: frozenset[int]

    value = Mixed(datetime.datetime(2026, 1, 2, 3, 4, 5), (uuid.UUID(int=7),),
                  [pair(1, Inner(2, ["t"]))], {"z": Outer("o", Inner(3)), "a": None},
                  frozenset({5}))
    result = ModelStepResult(output={"k": "v"}, usage=StepUsage(model="m", transport="t"))
    for one in (value, result, [result, Inner(1)], {"x": Outer("p", Inner(4))}):
        assert _CONVERTER.to_payload(one) == JSONPlainPayloadConverter().to_payload(one)
