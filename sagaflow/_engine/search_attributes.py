"""sagaflow's custom search attributes: typed keys and their registration.

Where they come from:

* a fresh embedded server gets them from ``temporal server start-dev
  --search-attribute NAME=TYPE`` (see :mod:`sagaflow._engine.server`);
* every worker calls :func:`ensure_registered` at start, which adds missing ones
  through the operator service ("already exists" counts as success): this covers
  an embedded database created before the flags, and remote clusters. Every run
  is started after a worker for its namespace is up, so launches need no check.
  On a remote cluster the call needs operator permission; without it the error
  names the ``temporal operator`` command to run (``sagaflow doctor`` prints it too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagaflow._engine import meta
from sagaflow.errors import ConfigError

if TYPE_CHECKING:
    from temporalio.client import Client


_KEYS: dict[str, Any] = {}


def keys() -> dict[str, Any]:
    """Typed search attribute keys by name, typed as :data:`meta.SEARCH_ATTRIBUTES` says.

    Built once per process and shared (read-only): workflow code asks on every change
    of a run's state, and inside the sandbox each call's import goes through its
    importer. The keys are frozen dataclasses.
    """
    if _KEYS:
        return _KEYS
    from temporalio.common import SearchAttributeKey

    factories: dict[str, Any] = {
        "Keyword": SearchAttributeKey.for_keyword, "Double": SearchAttributeKey.for_float,
        "Int": SearchAttributeKey.for_int, "Bool": SearchAttributeKey.for_bool,
        "Text": SearchAttributeKey.for_text, "Datetime": SearchAttributeKey.for_datetime,
    }
    built = {name: factories[kind](name) for name, kind in meta.SEARCH_ATTRIBUTES.items()}
    _KEYS.update(built)  # whole, in one step: a concurrent caller sees all or nothing
    return _KEYS


def initial(skill: str) -> Any:
    """``TypedSearchAttributes`` a run starts with."""
    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    by_name = keys()
    pairs = [
        SearchAttributePair(by_name[name], value)
        for name, value in meta.initial_search_attributes(skill).items()
    ]
    return TypedSearchAttributes(pairs)


def create_command(namespace: str) -> str:
    """The CLI commands that register the attributes by hand (for remote clusters).

    ``temporal operator search-attribute create`` takes several ``--name`` but one
    ``--type``: one command per type, joined with ``&&``.
    """
    by_kind: dict[str, list[str]] = {}
    for name, kind in meta.SEARCH_ATTRIBUTES.items():
        by_kind.setdefault(kind, []).append(name)
    return " && ".join(
        f"temporal operator search-attribute create --namespace {namespace} "
        + " ".join(f"--name {name}" for name in names) + f" --type {kind}"
        for kind, names in by_kind.items()
    )


async def ensure_registered(client: Client, namespace: str) -> None:
    """Register the attributes of :data:`meta.SEARCH_ATTRIBUTES` missing in ``namespace``.

    Raises:
        ConfigError: The server refused (typically no operator permission); the message
            names the ``temporal operator search-attribute create`` command to run.
    """
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )
    from temporalio.service import RPCError, RPCStatusCode

    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        missing = {
            name: kind for name, kind in meta.SEARCH_ATTRIBUTES.items()
            if name not in listed.custom_attributes
        }
        if missing:
            request = AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={
                    name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{key.indexed_value_type.name}")
                    for name, key in keys().items() if name in missing
                },
            )
            try:
                await client.operator_service.add_search_attributes(request)
            except RPCError as exc:
                if exc.status != RPCStatusCode.ALREADY_EXISTS:
                    raise
    except RPCError as exc:
        raise ConfigError(
            f"Cannot register sagaflow's search attributes in namespace {namespace!r} "
            f"({exc.message[:120]}); ask an operator to run: {create_command(namespace)}"
        ) from None
