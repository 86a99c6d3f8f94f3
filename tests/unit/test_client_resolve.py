"""sagaflow._engine.client.resolve: where sagaflow connects (precedence over envconfig)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow._engine import daemon
from sagaflow._engine.client import Target, resolve
from sagaflow.config import load_settings
from sagaflow.errors import ConfigError
from sagaflow.paths import Home

PROFILES = """
[profile.default]
address = "profile.example:7233"
namespace = "profile-ns"

[profile.prod]
address = "prod.example:7233"
api_key = "k-123"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_PROFILE", "TEMPORAL_API_KEY",
                 "TEMPORAL_TLS", "TEMPORAL_CONFIG_FILE", "SAGAFLOW_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sf"))
    (tmp_path / "sf").mkdir()
    return Home(tmp_path / "sf")


def _profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "temporal.toml"
    path.write_text(PROFILES, encoding="utf-8")
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(path))


def test_defaults_without_any_configuration(home: Home) -> None:
    assert resolve(load_settings(home)) == Target("localhost:7233", "default", {})


def test_the_envconfig_profile_beats_the_defaults(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _profiles(tmp_path, monkeypatch)
    assert resolve(load_settings(home)) == Target("profile.example:7233", "profile-ns", {})


def test_config_yaml_beats_the_profile_field_by_field(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _profiles(tmp_path, monkeypatch)
    home.config_file.write_text("temporal:\n  address: yaml.example:7233\n", encoding="utf-8")
    target = resolve(load_settings(home))
    assert (target.address, target.namespace) == ("yaml.example:7233", "profile-ns")


def test_environment_beats_config_yaml_and_flags_beat_everything(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _profiles(tmp_path, monkeypatch)
    home.config_file.write_text(
        "temporal:\n  address: yaml.example:7233\n  namespace: yaml-ns\n", encoding="utf-8"
    )
    monkeypatch.setenv("TEMPORAL_ADDRESS", "env.example:7233")
    settings = load_settings(home)
    assert (resolve(settings).address, resolve(settings).namespace) == (
        "env.example:7233", "yaml-ns"
    )
    flagged = settings.with_overrides(address="flag.example:7233", namespace="flag-ns")
    assert (resolve(flagged).address, resolve(flagged).namespace) == (
        "flag.example:7233", "flag-ns"
    )


def test_tls_and_api_key_come_from_the_selected_profile(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _profiles(tmp_path, monkeypatch)
    monkeypatch.setenv("TEMPORAL_PROFILE", "prod")
    target = resolve(load_settings(home))
    assert target == Target("prod.example:7233", "default", {"api_key": "k-123", "tls": True})


def test_an_unknown_profile_is_one_config_error(home: Home) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(load_settings(home).with_overrides(profile="nosuch"))
    assert "'nosuch'" in caught.value.message and "\n" not in caught.value.message


def test_the_worker_gets_only_explicit_choices_so_it_resolves_alike(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _profiles(tmp_path, monkeypatch)
    env = daemon._worker_env(home, load_settings(home))
    assert "TEMPORAL_ADDRESS" not in env and "TEMPORAL_NAMESPACE" not in env
    flagged = load_settings(home).with_overrides(address="flag.example:7233", profile="prod")
    env = daemon._worker_env(home, flagged)
    assert (env["TEMPORAL_ADDRESS"], env["TEMPORAL_PROFILE"]) == ("flag.example:7233", "prod")
    assert "TEMPORAL_NAMESPACE" not in env
    monkeypatch.setattr("os.environ", env)
    assert resolve(load_settings(home)) == resolve(flagged)


def test_the_default_config_file_is_read_where_temporal_looks_for_it(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Launch skips envconfig when there is nothing for it to read: the file it would find
    by default must then be where sagaflow looks ($XDG_CONFIG_HOME, then ~/.config)."""
    for xdg in (tmp_path / "xdg", None):
        config_dir = xdg if xdg is not None else tmp_path / "userhome" / ".config"
        if xdg is not None:
            monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
        else:
            monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
        (config_dir / "temporalio").mkdir(parents=True)
        (config_dir / "temporalio" / "temporal.toml").write_text(PROFILES, encoding="utf-8")
        assert resolve(load_settings(home)) == Target("profile.example:7233", "profile-ns", {})
        (config_dir / "temporalio" / "temporal.toml").unlink()
        assert resolve(load_settings(home)) == Target("localhost:7233", "default", {})


def test_a_temporal_variable_alone_is_read_through_envconfig(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "k-env")
    target = resolve(load_settings(home))
    assert target.options.get("api_key") == "k-env"


def test_nothing_to_read_means_envconfig_is_not_imported(home: Home, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "XDG_"))}
    env.update(HOME=str(tmp_path / "userhome"), SAGAFLOW_HOME=str(home.root))
    code = ("import sys; from sagaflow.config import load_settings; "
            "from sagaflow._engine.client import resolve; t = resolve(load_settings()); "
            "print(t.address, 'temporalio.envconfig' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["localhost:7233", "False"]
