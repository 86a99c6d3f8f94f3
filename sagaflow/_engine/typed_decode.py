"""Decoding JSON values into dataclasses: Temporal's ``value_to_type``, cheaper, same values.

The data converter (:mod:`sagaflow._engine.converter`) decodes every dataclass payload
through :class:`_DataclassFields`, and :func:`to_type` does the same for a value already
JSON-decoded (a model step's result, which the workflow interceptor reads for each step).
What is cheaper, and why it matters: the default resolves a class's type hints
(``typing.get_type_hints``) for every value, and calls ``value_to_type`` on every field,
a dozen ``isinstance`` checks each; inside the workflow sandbox each of those is a wrapped
call. Here hints are resolved once per class, and a field whose value already has its
hint's exact type is taken as it is. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import weakref
from typing import Any

from temporalio.converter import JSONTypeConverter, value_to_type

#: types ``value_to_type`` returns a value of unchanged (``str(v)`` is ``v``...) when it
#: already has exactly that type
_PRIMITIVES = frozenset({str, int, float, bool})
#: the kind of a field whose value is a ``dict[str, str]`` (a model step's ``output``)
_STR_MAP: frozenset[type] = frozenset({dict})


def _unchanged(hint: Any) -> frozenset[type]:
    """The exact types of a value that ``value_to_type(hint, value)`` returns as it is:
    ``{str}`` for ``str`` (and the other primitives), ``{float, NoneType}`` for
    ``float | None`` (one primitive or None: a union of two primitives converts by its
    first member), :data:`_STR_MAP` for ``dict[str, str]`` (a copy of the dict, when
    every key and value is a ``str``); empty for anything else (always converted)."""
    if hint in _PRIMITIVES:
        return frozenset({hint})
    args = typing.get_args(hint)
    if typing.get_origin(hint) is dict and args == (str, str):
        return _STR_MAP
    if len(args) == 2 and type(None) in args and typing.get_origin(hint) in (
            typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        if kept[0] in _PRIMITIVES:
            return frozenset({kept[0], type(None)})
    return frozenset()


def _as_is(kind: frozenset[type], given: Any) -> bool:
    """Whether ``value_to_type`` would return ``given`` unchanged (see :func:`_unchanged`)."""
    if kind is _STR_MAP:
        return type(given) is dict and all(
            type(k) is str and type(v) is str for k, v in given.items())
    return type(given) in kind


#: (field, resolved hint, :func:`_unchanged` kind) per dataclass, for
#: :class:`_DataclassFields`; weak keys: the workflow sandbox re-imports classes per run,
#: and a dead class takes its entry with it
_FIELDS: weakref.WeakKeyDictionary[
    type, tuple[tuple[dataclasses.Field[Any], Any, frozenset[type]], ...]] = (
    weakref.WeakKeyDictionary())


class _DataclassFields(JSONTypeConverter):
    """Temporal's dataclass decoding (``value_to_type``, temporalio 1.35) with each
    class's fields and resolved type hints computed once instead of per value, and a
    field value that already has its hint's exact type (a ``str`` for ``str``, ``None``
    for ``float | None``, a ``dict`` of strings for ``dict[str, str]``) taken as it is.

    Every activity input (``SpawnSubagentInput`` and its ``RunConfig`` with a ``Price``
    per model) went through ``typing.get_type_hints`` per class per payload: about half
    the decoding CPU of a model step. ``value_to_type`` on a plain field costs a dozen
    ``isinstance`` checks, each a wrapped call inside the workflow sandbox (a model
    step's result has 16 fields, decoded there for every step). Same results and errors
    as the default; a class whose hints cannot be resolved is left to the default (not
    cached).
    """

    def to_typed_value(self, hint: type, value: Any) -> Any:
        if not isinstance(hint, type) or not dataclasses.is_dataclass(hint) \
                or not isinstance(value, dict):
            return JSONTypeConverter.Unhandled  # the default raises its own TypeError
        try:
            fields = _FIELDS[hint]
        except KeyError:
            try:
                hints = typing.get_type_hints(hint)
            except Exception:
                return JSONTypeConverter.Unhandled
            fields = _FIELDS[hint] = tuple(
                (f, hints[f.name], _unchanged(hints[f.name])) for f in dataclasses.fields(hint))
        init: dict[str, Any] = {}
        late: dict[str, Any] = {}
        for field, field_hint, kind in fields:
            given = value.get(field.name, dataclasses.MISSING)
            if given is dataclasses.MISSING:
                continue  # a missing required field fails in the constructor, as by default
            if _as_is(kind, given):
                converted = dict(given) if kind is _STR_MAP else given
            else:
                try:
                    converted = value_to_type(field_hint, given, CUSTOM_DECODERS)
                except Exception as err:
                    raise TypeError(
                        f"Failed converting field {field.name} on dataclass {hint}") from err
            (init if field.init else late)[field.name] = converted
        made = hint(**init)
        for name, converted in late.items():
            object.__setattr__(made, name, converted)
        return made


#: the custom converters ``value_to_type`` takes (the data converter's JSON converter's)
CUSTOM_DECODERS: tuple[JSONTypeConverter, ...] = (_DataclassFields(),)


def to_type(hint: type[Any], value: Any) -> Any:
    """``value`` (as JSON-decoded) as ``hint``, as the data converter decodes payloads:
    Temporal's ``value_to_type`` with each dataclass's hints resolved once. For values
    decoded without a type first (a model step's result, read in workflow code for each
    step: resolving ``ModelStepResult``'s and ``StepUsage``'s hints there, in the
    sandbox, cost more than the rest of the step's decoding).

    Raises:
        TypeError: ``value`` does not fit ``hint`` (as ``value_to_type`` raises).
    """
    return value_to_type(hint, value, CUSTOM_DECODERS)
