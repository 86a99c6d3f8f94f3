"""Connecting to Temporal: sagaflow's settings over Temporal's envconfig.

:func:`resolve` is the one place that decides where sagaflow connects (its
docstring lists the precedence); :func:`connect` and :func:`ensure_temporal` (hence every
command that talks to Temporal, the worker included) and ``sagaflow doctor`` go through it,
and every client they make encodes payloads with :mod:`sagaflow._engine.converter`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sagaflow.config import DEFAULT_ADDRESS, DEFAULT_NAMESPACE, Settings
from sagaflow.errors import ConfigError, TemporalError

if TYPE_CHECKING:
    from temporalio.client import Client


@dataclass(frozen=True)
class Target:
    """Where and how to connect.

    ``options`` holds the remaining ``Client.connect`` keyword arguments from the
    envconfig profile (``tls``, ``api_key``, ``rpc_metadata``); never the target or namespace.
    """

    address: str
    namespace: str
    options: dict[str, Any] = field(default_factory=dict)


def resolve(settings: Settings) -> Target:
    """The Temporal address, namespace and connection options sagaflow uses.

    Precedence, first one set wins, for the address and the namespace separately:

    1. ``--address`` / ``--namespace`` on the command line;
    2. ``TEMPORAL_ADDRESS`` / ``TEMPORAL_NAMESPACE`` in the environment;
    3. ``temporal.address`` / ``temporal.namespace`` in the home's ``config.yaml``;
    4. the Temporal envconfig profile (``temporalio.envconfig``): the profile named by
       ``--profile``, ``TEMPORAL_PROFILE`` or ``temporal.profile`` (else ``default``) in
       ``TEMPORAL_CONFIG_FILE`` or Temporal's default config file;
    5. ``localhost:7233`` / ``default``.

    Steps 1 to 3 are read by :func:`sagaflow.config.load_settings` (``Settings.address``
    with ``address_from_user``, likewise for the namespace). TLS, the API key and gRPC
    metadata come from envconfig alone (profile plus its ``TEMPORAL_TLS*``,
    ``TEMPORAL_API_KEY``... variables).

    Raises:
        ConfigError: The envconfig profile or file cannot be loaded.
    """
    if _no_envconfig(settings):
        return Target(settings.address or DEFAULT_ADDRESS,
                      settings.namespace or DEFAULT_NAMESPACE)
    from temporalio.envconfig import ClientConfigProfile

    try:
        profile = ClientConfigProfile.load(profile=settings.profile)
    except Exception as exc:
        raise ConfigError(
            f"Cannot load Temporal profile {settings.profile or 'default'!r}: {exc}; "
            "check your Temporal config file or TEMPORAL_PROFILE."
        ) from None
    options: dict[str, Any] = dict(profile.to_client_connect_config())
    from_profile_address = options.pop("target_host", None)
    from_profile_namespace = options.pop("namespace", None)
    address = settings.address if settings.address_from_user else (
        from_profile_address or settings.address or DEFAULT_ADDRESS
    )
    namespace = settings.namespace if settings.namespace_from_user else (
        from_profile_namespace or settings.namespace or DEFAULT_NAMESPACE
    )
    return Target(str(address), str(namespace), options)


#: the variables sagaflow itself reads for step 2 of :func:`resolve`; any other ``TEMPORAL_*``
#: variable may be one envconfig reads (``TEMPORAL_TLS``, ``TEMPORAL_API_KEY``...)
_OWN_VARIABLES = frozenset({"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"})


def _no_envconfig(settings: Settings) -> bool:
    """Whether envconfig has nothing to give: no profile named, no ``TEMPORAL_*`` variable
    beyond sagaflow's own two, no config file where Temporal looks for it by default
    (``<user config dir>/temporalio/temporal.toml``, the user config directory being
    ``$XDG_CONFIG_HOME`` or ``~/.config`` on Linux, platformdirs' elsewhere, as the SDK's
    Rust core resolves it). Then loading it would give an empty profile, and launch skips
    importing ``temporalio.envconfig`` (about 2.5 ms of every run)."""
    import os
    import sys
    from pathlib import Path

    if settings.profile or any(name.startswith("TEMPORAL_") and name not in _OWN_VARIABLES
                               for name in os.environ):
        return False
    if sys.platform.startswith("linux"):
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        config_dir = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config"
    else:
        import platformdirs

        config_dir = Path(platformdirs.user_config_dir(roaming=True))
    return not (config_dir / "temporalio" / "temporal.toml").exists()


def _with_target(settings: Settings, target: Target) -> Settings:
    return replace(settings, address=target.address, namespace=target.namespace,
                   address_from_user=True, namespace_from_user=True)


def target_of(settings: Settings) -> str:
    """The address sagaflow will talk to (see :func:`resolve`)."""
    return resolve(settings).address


async def connect(settings: Settings) -> Client:
    """Connect to the target :func:`resolve` picks.

    Raises:
        ConfigError: The envconfig profile cannot be loaded.
        TemporalError: Nothing usable answers there (one line, with the cause).
    """
    return await _connect(resolve(settings), settings)


async def _connect(target: Target, settings: Settings, *, check_namespace: bool = True) -> Client:
    """``Client.connect`` with sagaflow's one data converter
    (:func:`sagaflow._engine.converter.data_converter` for the current home)."""
    from temporalio.client import Client

    from sagaflow._engine.converter import data_converter
    from sagaflow.paths import Home

    try:
        client = await Client.connect(
            target.address, namespace=target.namespace,
            data_converter=data_converter(Home.current(), settings), **target.options,
        )
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TemporalError(
            f"Temporal at {target.address} does not answer ({first[:160]}); check --address or "
            "TEMPORAL_ADDRESS, or run 'sagaflow server start' for a local server."
        ) from None
    if check_namespace:
        await _check_namespace(client, target)
    return client


async def explain_failure(client: Client, settings: Settings) -> None:
    """After a call through a client connected with ``check_namespace=False`` failed:
    raise the namespace error if a missing namespace is why, else return (the caller
    re-raises its own error).

    Raises:
        ConfigError: The namespace does not exist (naming the ones that do).
    """
    await _check_namespace(client, resolve(settings))


async def _check_namespace(client: Client, target: Target) -> None:
    """Refuse a namespace the server does not have, naming the ones it has.

    Without this, every later call fails with Temporal's raw "Namespace X is not
    found" (or a misleading search-attribute error from the worker). One RPC; any
    answer but NOT_FOUND (e.g. no permission to describe) lets the command go on.
    """
    from temporalio.api.workflowservice.v1 import (
        DescribeNamespaceRequest,
        ListNamespacesRequest,
    )
    from temporalio.service import RPCError, RPCStatusCode

    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=target.namespace)
        )
        return
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            return
    try:
        listed = await client.workflow_service.list_namespaces(ListNamespacesRequest(page_size=50))
        names = sorted(n.namespace_info.name for n in listed.namespaces
                       if n.namespace_info.name != "temporal-system")
    except RPCError:
        names = []
    has = f" (it has: {', '.join(names)})" if names else ""
    raise ConfigError(
        f"Namespace {target.namespace!r} does not exist on Temporal at {target.address}{has}; "
        "choose one with --namespace or TEMPORAL_NAMESPACE, or create it with 'temporal operator "
        f"namespace create --namespace {target.namespace} --address {target.address}'."
    )


async def ensure_temporal(settings: Settings, *, check_namespace: bool = True) -> Client:
    """Start the embedded server when the target is local and silent, then connect.

    Search attributes are not checked here: a fresh embedded server is started with
    them, and every worker registers missing ones at start (see
    :mod:`sagaflow._engine.search_attributes`).

    Args:
        check_namespace: Refuse a namespace the server does not have now (one RPC).
            ``launch`` passes False and calls :func:`explain_failure` only when a later
            call fails, so a launch that succeeds costs no extra round trip.

    Raises:
        ServerError: The embedded server could not be started.
        TemporalError: A remote target does not answer.
    """
    from sagaflow.paths import Home

    target = resolve(settings)
    if server_to_start(settings, target):
        from sagaflow._engine import server

        server.ensure_running(Home.current(), _with_target(settings, target))
    return await _connect(target, settings, check_namespace=check_namespace)


def server_to_start(settings: Settings, target: Target) -> bool:
    """Whether :func:`ensure_temporal` would start the embedded server for ``target`` (local,
    embedded allowed, nothing answering there now)."""
    from sagaflow._engine.address import answers, is_loopback

    return settings.embedded and is_loopback(target.address) and not answers(target.address)


async def connect_to(target: Target, settings: Settings, *, check_namespace: bool = True
                     ) -> Client:
    """Connect to a target :func:`resolve` gave for ``settings`` (no server is started; see
    :func:`ensure_temporal`).

    Raises:
        TemporalError: Nothing usable answers there (one line, with the cause).
        ConfigError: ``check_namespace`` and the namespace does not exist.
    """
    return await _connect(target, settings, check_namespace=check_namespace)
