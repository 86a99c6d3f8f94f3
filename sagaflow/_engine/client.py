"""Connecting to Temporal: sagaflow settings, then Temporal's envconfig profiles.

Precedence for the target: ``--address`` / ``TEMPORAL_ADDRESS`` / config.yaml,
then the selected envconfig profile (``TEMPORAL_PROFILE``, ``--profile``; TLS and
API keys come from it), then ``localhost:7233``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagaflow.config import Settings
from sagaflow.errors import ConfigError, TemporalError

if TYPE_CHECKING:
    from temporalio.client import Client


def connect_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Client.connect``."""
    from temporalio.envconfig import ClientConfigProfile

    try:
        profile = ClientConfigProfile.load(profile=settings.profile)
        options: dict[str, Any] = dict(profile.to_client_connect_config())
    except Exception as exc:
        raise ConfigError(
            f"Cannot load Temporal profile {settings.profile or 'default'!r}: {exc}; "
            "check your Temporal config file or TEMPORAL_PROFILE."
        ) from None
    if settings.address_from_user or not options.get("target_host"):
        options["target_host"] = settings.address
    if settings.address_from_user or not options.get("namespace"):
        options["namespace"] = settings.namespace
    return options


def target_of(settings: Settings) -> str:
    """The address sagaflow will talk to (without loading profiles when not needed)."""
    if settings.address_from_user or not settings.profile:
        return settings.address
    return str(connect_options(settings)["target_host"])


async def connect(settings: Settings) -> Client:
    """Connect, turning failures into one clear TemporalError."""
    from temporalio.client import Client

    options = connect_options(settings)
    target = options.pop("target_host")
    try:
        return await Client.connect(target, **options)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TemporalError(
            f"Temporal at {target} does not answer ({first[:160]}); check --address or "
            "TEMPORAL_ADDRESS, or run 'sagaflow server start' for a local server."
        ) from None


async def ensure_temporal(settings: Settings) -> Client:
    """Start the embedded server when the target is local and silent, then connect."""
    from sagaflow._engine import server
    from sagaflow._engine.search_attributes import ensure_registered
    from sagaflow.paths import Home

    home = Home.current()
    target = target_of(settings)
    if settings.embedded and server.is_loopback(target) and not server.answers(target):
        server.ensure_running(home, settings)
    client = await connect(settings)
    await ensure_registered(client, client.namespace, home, target)
    return client
