"""The one data converter: typed payloads (pydantic, dataclasses) and large ones out of history.

:func:`data_converter` builds it; every client sagaflow connects
(:func:`sagaflow._engine.client.connect`, hence launch, show, tail, list, replay-check,
upgrade, the worker daemon and pool workers) and :class:`~sagaflow._engine.plugin.SagaflowPlugin`
(the worker it configures, the ``Replayer``, in-process tests) use it, so every process
encodes and decodes payloads the same way.

What it adds to Temporal's default converter:

* **pydantic models** (v2) as workflow inputs and results, activity inputs and results,
  signal and update arguments: a ``BaseModel`` is written as its JSON
  (``model_dump(mode="json")``), and a value whose type hint mentions a model
  (``Model``, ``list[Model]``, ``Model | None``, a dataclass with a model field...) is
  validated into it by :mod:`temporalio.contrib.pydantic`'s converter. Everything else
  (dataclasses, dicts, strings, committed histories) goes through Temporal's default JSON
  converter exactly as before. Nothing imports pydantic on its behalf: a process where
  pydantic is not loaded cannot hold a model, so ``launch`` of a skill that does not use
  pydantic never pays for it (see :func:`_model_base`).
* **large payloads outside history**: :class:`temporalio.converter.ExternalStorage` with
  :class:`~sagaflow._engine.payload_store.LocalPayloadStore` under ``<home>/payloads``.
  A payload of at least ``payloads.store_above_kib`` (config.yaml, default 64 KiB; see
  :mod:`sagaflow.config`) is written there and history holds a reference. Reading
  references is always on, whatever the threshold (``off`` only stops writing).
* **cheaper decoding**, same values: each dataclass's field hints are resolved once
  (:mod:`sagaflow._engine.typed_decode`), and a class marked :func:`sagaflow.wiretypes.shared`
  (``RunConfig``, sent with every model step) is decoded once per distinct payload and
  encoded once per object.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
import weakref
from typing import TYPE_CHECKING, Any

from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1.external_storage_pb2 import ExternalStorageReference
from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    ExternalStorage,
    JSONPlainPayloadConverter,
)

from sagaflow._engine.payload_store import LocalPayloadStore
from sagaflow._engine.typed_decode import CUSTOM_DECODERS

if TYPE_CHECKING:
    from temporalio.client import Client

    from sagaflow.config import Settings
    from sagaflow.paths import Home

#: the threshold when storing is off: larger than any payload Temporal accepts
NEVER = 1 << 62


def _model_base() -> type | None:
    """pydantic's ``BaseModel`` if pydantic is loaded, else None (nothing is imported).

    No object can be a model, and no type hint can name one, before ``pydantic.main``
    has been imported by someone; checking ``sys.modules`` keeps pydantic (about 100 ms
    of imports) off the path of processes that never meet a model.
    """
    module = sys.modules.get("pydantic.main")
    return getattr(module, "BaseModel", None) if module is not None else None


def _mentions_model(hint: Any, base: type, seen: set[int]) -> bool:
    """Whether ``hint`` is a model, or a generic / union / dataclass that holds one."""
    if id(hint) in seen:
        return False
    seen.add(id(hint))
    if isinstance(hint, type):
        if issubclass(hint, base) or hasattr(hint, "__pydantic_validator__"):
            return True  # a model, or a pydantic dataclass
        if dataclasses.is_dataclass(hint):
            try:
                fields = typing.get_type_hints(hint)
            except Exception:  # unresolvable forward references: leave it to the default
                return False
            return any(_mentions_model(t, base, seen) for t in fields.values())
    return any(_mentions_model(arg, base, seen) for arg in typing.get_args(hint))


class _ModelAwareEncoder(AdvancedJSONEncoder):
    """Temporal's JSON encoder, plus pydantic models (anywhere in the value) as their JSON."""

    def default(self, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            # the default's ``dataclasses.asdict`` deep-copies every field first; the
            # encoder walks the fields (and calls this for nested dataclasses) anyway:
            # the same JSON, without a copy of each activity result
            return {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}
        base = _model_base()
        if base is not None and isinstance(o, base):
            return o.model_dump(mode="json")  # type: ignore[attr-defined]
        return super().default(o)


#: decoded values of :func:`sagaflow.wiretypes.shared` classes by (class, payload bytes);
#: emptied when full (a worker serves few distinct run configurations at a time)
_SHARED: dict[tuple[Any, bytes], Any] = {}
SHARED_MAX = 64
#: encoded bytes of :func:`sagaflow.wiretypes.shared` values by ``id``, with a weak
#: reference that tells a live value from a later one at the same address
_ENCODED: dict[int, tuple[weakref.ref[Any], bytes]] = {}


def _shared(hint: Any) -> bool:
    """Whether ``hint`` is a shared class, or one or None (``RunConfig | None``)."""
    if getattr(hint, "__wire_shared__", False):
        return True
    args = typing.get_args(hint)
    return len(args) == 2 and type(None) in args and any(
        getattr(a, "__wire_shared__", False) for a in args)


def _encoded(value: Any) -> bytes | None:
    """The bytes ``value`` (a shared, read-only value) was encoded to before, if it was.

    A run hands the same ``RunConfig`` object to each of its model steps, and workflow
    code encoded it for each one (dataclass walks and ``isinstance`` checks, wrapped
    calls in the sandbox): the same object gives the same bytes.
    """
    seen = _ENCODED.get(id(value))
    return seen[1] if seen is not None and seen[0]() is value else None


def _remember(value: Any, data: bytes) -> None:
    try:
        ref = weakref.ref(value)
    except TypeError:  # a class without weak references (__slots__): encoded each time
        return
    if len(_ENCODED) >= SHARED_MAX:
        _ENCODED.clear()
    _ENCODED[id(value)] = (ref, data)


class ModelAwareJSONConverter(JSONPlainPayloadConverter):
    """``json/plain`` payloads: the default converter, with pydantic models in and out.

    Encoding is byte-for-byte the default's for every value without a model. Decoding
    with a type hint that mentions a model uses
    :class:`temporalio.contrib.pydantic.PydanticJSONPlainPayloadConverter` (imported on
    first use, its type adapters cached per hint); any other hint uses the default, with
    dataclass field hints resolved once per class (:mod:`~sagaflow._engine.typed_decode`).
    """

    def __init__(self) -> None:
        super().__init__(encoder=_ModelAwareEncoder, custom_type_converters=CUSTOM_DECODERS)
        self._pydantic: JSONPlainPayloadConverter | None = None
        self._verdicts: dict[Any, bool] = {}

    def _uses_pydantic(self, hint: Any) -> bool:
        base = _model_base()
        if hint is None or base is None:
            return False
        try:
            return self._verdicts[hint]
        except KeyError:
            verdict = self._verdicts[hint] = _mentions_model(hint, base, set())
            return verdict
        except TypeError:  # an unhashable hint: decide each time
            return _mentions_model(hint, base, set())

    def to_payload(self, value: Any) -> Payload | None:
        # the default's body (temporalio 1.35), without its warning about "Pydantic v1"
        # for any value with a ``parse_obj`` attribute: v2 models are handled here
        shared = getattr(type(value), "__wire_shared__", False)
        data = _encoded(value) if shared else None
        if data is None:
            data = json.dumps(value, cls=_ModelAwareEncoder, separators=(",", ":"),
                              sort_keys=True).encode()
            if shared:
                _remember(value, data)
        return Payload(metadata={"encoding": self.encoding.encode()}, data=data)

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        if type_hint is not None and _shared(type_hint):
            key = (type_hint, payload.data)
            try:
                return _SHARED[key]
            except KeyError:
                if len(_SHARED) >= SHARED_MAX:
                    _SHARED.clear()
                value = _SHARED[key] = self._decode(payload, type_hint)
                return value
        return self._decode(payload, type_hint)

    def _decode(self, payload: Payload, type_hint: type | None) -> Any:
        if not self._uses_pydantic(type_hint):
            return super().from_payload(payload, type_hint)
        if self._pydantic is None:
            from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter

            self._pydantic = PydanticJSONPlainPayloadConverter()  # type: ignore[assignment]
        assert self._pydantic is not None
        return self._pydantic.from_payload(payload, type_hint)


class SagaflowPayloadConverter(CompositePayloadConverter):
    """Temporal's default payload converters with :class:`ModelAwareJSONConverter` as the
    JSON one (nullary, as ``DataConverter.payload_converter_class`` requires; the
    workflow sandbox builds its own instance)."""

    def __init__(self) -> None:
        super().__init__(*(
            ModelAwareJSONConverter() if isinstance(c, JSONPlainPayloadConverter) else c
            for c in DefaultPayloadConverter.default_encoding_payload_converters
        ))


#: how ExternalStorage marks a reference (temporalio 1.35 ``converter/_extstore.py``)
_REFERENCE_TYPE = ExternalStorageReference.DESCRIPTOR.full_name.encode()
_LEGACY_REFERENCE = b"json/external-storage-reference"

_BUILT: dict[tuple[str, int], DataConverter] = {}


def data_converter(home: Home, settings: Settings) -> DataConverter:
    """The data converter of every sagaflow client, worker and replayer.

    Args:
        home: Whose ``payloads/`` directory holds payloads stored outside history.
        settings: ``payload_store_bytes`` (``payloads.store_above_kib`` in config.yaml):
            payloads of at least this many bytes, after encoding, are stored outside
            history; None: none are (references already in history are still read).

    Returns:
        One shared :class:`temporalio.converter.DataConverter` per (home, threshold): a
        worker checks it is using this very object (:class:`SagaflowPlugin`).
    """
    threshold = NEVER if settings.payload_store_bytes is None else settings.payload_store_bytes
    key = (str(home.root), threshold)
    built = _BUILT.get(key)
    if built is None:
        storage = ExternalStorage(drivers=[LocalPayloadStore(home.payloads)],
                                  payload_size_threshold=threshold)
        built = _BUILT[key] = DataConverter(
            payload_converter_class=SagaflowPayloadConverter, external_storage=storage,
        )
    return built


def rebind(client: Client, converter: DataConverter) -> Client:
    """``client`` itself if it already uses ``converter``, else a copy of it (same
    connection, namespace, interceptors and plugins) that does.

    For a client sagaflow did not connect (a test environment's, one built by another
    tool): Temporal takes a worker's converter from its client, and a run's payloads
    must be decoded with the converter that stored them.
    """
    if client.data_converter is converter:
        return client
    from temporalio.client import Client

    config = client.config()
    config["data_converter"] = converter
    return Client(**config)


def is_stored_reference(payload: Payload) -> bool:
    """Whether ``payload`` is a reference to a payload stored outside history."""
    encoding = payload.metadata.get("encoding")
    return encoding == _LEGACY_REFERENCE or (
        encoding == b"json/protobuf" and payload.metadata.get("messageType") == _REFERENCE_TYPE
    )


def stored_size(payload: Payload) -> int:
    """The size in bytes of the payload a reference stands for (0 when not recorded)."""
    return sum(p.size_bytes for p in payload.external_payloads)


def stored_note(payload: Payload, problem: Exception) -> str:
    """What ``show`` and ``tail`` print for a stored payload they cannot read back."""
    return f"(stored outside history: {stored_size(payload) / 1024:.1f} KiB; {problem})"


def inline_size(converter: DataConverter, payloads: typing.Sequence[Payload]) -> int:
    """Bytes ``payloads`` (converted, not yet stored) would occupy in history once the
    converter's external storage has taken out those at or above its threshold."""
    storage = converter.external_storage
    limit = storage.payload_size_threshold if storage is not None else NEVER
    reference = 400  # an ExternalStorageReference payload with its claim: about 330 bytes
    return sum(reference if p.ByteSize() >= limit else p.ByteSize() for p in payloads)
