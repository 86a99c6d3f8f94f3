"""Options given to the root command, shared by subcommands."""

from __future__ import annotations

from sagaflow.cli.options import GlobalValues
from sagaflow.config import Settings, load_settings
from sagaflow.paths import Home

_root: list[GlobalValues] = [GlobalValues()]


def configure(values: GlobalValues) -> None:
    """Remember the root options (called by the root callback, before any command)."""
    _root[0] = values


def root() -> GlobalValues:
    return _root[0]


def verbose() -> bool:
    return _root[0].verbose


def home() -> Home:
    return Home.current()


def settings() -> Settings:
    """Settings from file and env, with the root command's overrides."""
    return with_root(load_settings(home()), _root[0])


def with_root(settings: Settings, values: GlobalValues) -> Settings:
    """``settings`` with the root options' Temporal overrides (address, namespace, profile)."""
    return settings.with_overrides(
        address=values.address, namespace=values.namespace, profile=values.profile
    )
