"""Options given to the root command, shared by subcommands."""

from __future__ import annotations

from typing import Any

from sagaflow.config import Settings, load_settings
from sagaflow.paths import Home

_options: dict[str, Any] = {}


def configure(**options: Any) -> None:
    _options.clear()
    _options.update(options)


def verbose() -> bool:
    return bool(_options.get("verbose"))


def home() -> Home:
    return Home.current()


def overrides() -> dict[str, Any]:
    """The root command's Temporal overrides (address, namespace, profile)."""
    return {k: _options.get(k) for k in ("address", "namespace", "profile")}


def settings() -> Settings:
    """Settings from file and env, with the root command's overrides."""
    return load_settings(home()).with_overrides(
        address=_options.get("address"),
        namespace=_options.get("namespace"),
        profile=_options.get("profile"),
    )
