"""Dataclasses that cross Temporal's data converter, with their type hints resolved once.

Temporal's default payload converter decodes a dataclass by calling
``typing.get_type_hints`` on it for every value it decodes (and again for every nested
dataclass). In a module with ``from __future__ import annotations`` every hint is a
string, so each call compiles and evaluates each of them again: measured here, decoding
one hello-world run's memo, activity inputs and model result cost about 4.7 ms of worker
CPU, most of it that evaluation (inside the workflow sandbox, more); a workflow's
query, update and signal handlers have their hints read each time they are registered.
:func:`wire` evaluates a class's or function's hints once, at import, and stores the
result as its ``__annotations__``; ``get_type_hints`` then only walks ready objects. A
dataclass itself (fields, defaults, equality) is unchanged.

Pure module: no Temporal, no I/O.
"""

import inspect  # already loaded by dataclasses
import typing
from typing import TypeVar

T = TypeVar("T")


def wire(obj: T) -> T:
    """Resolve the string annotations of a class (put it above ``@dataclass``) or of a
    function (a workflow handler: the SDK reads its hints each time it is registered,
    once per run) now, once.

    Raises:
        NameError: a hint names something not importable at definition (a name
            imported only under ``TYPE_CHECKING``); such an object cannot be decorated.
    """
    own = inspect.get_annotations(obj)  # type: ignore[arg-type]
    hints = typing.get_type_hints(obj)
    obj.__annotations__ = {name: hints[name] for name in own}
    return obj


def shared(cls: T) -> T:
    """Mark a frozen dataclass whose decoded values may be shared (put it above
    ``@dataclass``): sagaflow's data converter decodes each distinct payload of it once and
    gives every identical payload after it the same object, and encodes each object once
    (the same object gives the bytes it gave before). For a value that travels
    unchanged with many payloads (a run's ``RunConfig`` goes with each of its steps: about
    a third of a model step's decoding CPU). Its users must treat it, and the containers
    it holds, as read-only.
    """
    cls.__wire_shared__ = True  # type: ignore[attr-defined]
    return cls
