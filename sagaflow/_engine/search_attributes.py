"""sagaflow's custom search attributes: typed keys and their registration.

The embedded server gets them automatically: ``ensure_temporal`` and every
worker register any that are missing through the operator service ("already
exists" counts as success). On a remote cluster the same call needs operator
permission; without it the error names the ``temporal operator`` command to run.
A marker file per (target, namespace) in the home skips the check afterwards.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sagaflow._engine import meta
from sagaflow.errors import ConfigError

if TYPE_CHECKING:
    from temporalio.client import Client

    from sagaflow.paths import Home


def keys() -> dict[str, Any]:
    """Typed search attribute keys by name."""
    from temporalio.common import SearchAttributeKey

    return {
        meta.SA_SKILL: SearchAttributeKey.for_keyword(meta.SA_SKILL),
        meta.SA_STATE: SearchAttributeKey.for_keyword(meta.SA_STATE),
        meta.SA_WAITING: SearchAttributeKey.for_keyword(meta.SA_WAITING),
        meta.SA_COST: SearchAttributeKey.for_float(meta.SA_COST),
    }


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
    """The CLI command that registers the attributes by hand (for remote clusters)."""
    parts = " ".join(
        f"--name {name} --type {kind}" for name, kind in meta.SEARCH_ATTRIBUTES.items()
    )
    return f"temporal operator search-attribute create --namespace {namespace} {parts}"


def _marker(home: Home, target: str, namespace: str) -> Any:
    digest = hashlib.sha256(f"{target}|{namespace}".encode()).hexdigest()[:16]
    return home.server / f"search-attributes-{digest}.ok"


async def ensure_registered(
    client: Client, namespace: str, home: Home | None = None, target: str = ""
) -> None:
    """Register missing attributes (skipped when this home already did for the target)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )
    from temporalio.service import RPCError, RPCStatusCode

    marker = _marker(home, target, namespace) if home is not None else None
    if marker is not None and marker.exists():
        return
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
                    name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
                    for name, kind in missing.items()
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
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text("ok\n", encoding="utf-8")
        except OSError:
            pass
