"""Tests for sagaflow.config, sagaflow.paths and sagaflow.runrecord."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from sagaflow import config, paths, runrecord
from sagaflow.config import DEFAULT_MODELS, Settings, load_settings
from sagaflow.errors import ConfigError, HomeError, UsageError
from sagaflow.paths import Home
from sagaflow.runrecord import RunRecord

ENV_VARS = (
    "SAGAFLOW_HOME",
    "SAGAFLOW_ROOT",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_PROFILE",
    "SAGAFLOW_TASK_QUEUE",
    "SAGAFLOW_TRANSPORT",
    "SAGAFLOW_MODEL_HAIKU",
    "SAGAFLOW_MODEL_SONNET",
    "SAGAFLOW_MODEL_OPUS",
    "SAGAFLOW_EMBEDDED",
)


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sagaflow"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))


@pytest.fixture
def home(tmp_path: Path) -> Home:
    root = tmp_path / "sagaflow"
    root.mkdir()
    return Home(root)


def write_config(home: Home, text: str) -> Path:
    home.config_file.write_text(text, encoding="utf-8")
    return home.config_file


# --- paths ---------------------------------------------------------------------


def test_sagaflow_home_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "h"))
    assert paths.home_dir() == tmp_path / "h"
    assert Home.current().root == tmp_path / "h"


def test_sagaflow_root_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAGAFLOW_HOME")
    monkeypatch.setenv("SAGAFLOW_ROOT", str(tmp_path / "alias"))
    assert paths.home_dir() == tmp_path / "alias"


def test_sagaflow_home_beats_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "main"))
    monkeypatch.setenv("SAGAFLOW_ROOT", str(tmp_path / "alias"))
    assert paths.home_dir() == tmp_path / "main"


def test_default_home_is_dot_sagaflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAGAFLOW_HOME")
    monkeypatch.setenv("SAGAFLOW_ROOT", "")
    assert paths.home_dir() == tmp_path / "userhome" / ".sagaflow"


def test_home_env_is_expanded_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGAFLOW_HOME", "~/custom")
    assert paths.home_dir() == tmp_path / "userhome" / "custom"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAGAFLOW_HOME", "relative/home")
    resolved = paths.home_dir()
    assert resolved.is_absolute()
    assert resolved == tmp_path / "relative" / "home"


def test_home_layout(tmp_path: Path) -> None:
    home = Home(tmp_path / "h")
    assert home.config_file == tmp_path / "h" / "config.yaml"
    assert home.inbox == tmp_path / "h" / "INBOX.md"
    assert home.run_dir("x-1") == tmp_path / "h" / "runs" / "x-1"
    assert home.worker_log == tmp_path / "h" / "logs" / "worker.log"
    for name in paths.NAMED_PATHS:
        assert paths.named_path(home, name).is_relative_to(home.root)


def test_ensure_creates_home_and_subdirs(tmp_path: Path) -> None:
    home = Home(tmp_path / "deep" / "h")
    home.ensure(home.runs, home.logs)
    assert home.root.is_dir() and home.runs.is_dir() and home.logs.is_dir()
    home.ensure()  # idempotent


def test_ensure_beneath_a_regular_file_is_home_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    home = Home(blocker / "h")
    with pytest.raises(HomeError) as info:
        home.ensure()
    assert str(blocker / "h") in str(info.value)
    assert "SAGAFLOW_HOME" in str(info.value)


def test_ensure_subdir_beneath_a_regular_file_is_home_error(tmp_path: Path) -> None:
    home = Home(tmp_path / "h")
    home.ensure()
    home.runs.write_text("oops", encoding="utf-8")
    with pytest.raises(HomeError, match="runs"):
        home.ensure(home.runs / "r-1")


# --- config --------------------------------------------------------------------


def test_defaults_without_config_file(home: Home) -> None:
    settings = load_settings(home)
    assert settings == Settings()
    assert settings.models == DEFAULT_MODELS
    assert settings.address_from_user is False


def test_load_settings_uses_current_home(home: Home) -> None:
    write_config(home, "temporal:\n  namespace: from-current-home\n")
    assert load_settings().namespace == "from-current-home"


def test_empty_config_file(home: Home) -> None:
    write_config(home, "")
    assert load_settings(home) == Settings()


def test_config_values(home: Home) -> None:
    write_config(
        home,
        """
temporal:
  address: temporal.example:7233
  namespace: research
  profile: prod
  task_queue: q1
  embedded: false
transport: Scripted
models:
  haiku: my-haiku
  SONNET: my-sonnet
  mini: my-mini
timeouts:
  heartbeat_seconds: 2
  worker_shutdown_seconds: 3.5
  server_start_seconds: "45"
""",
    )
    s = load_settings(home)
    assert s.address == "temporal.example:7233"
    assert s.address_from_user is True
    assert s.namespace == "research"
    assert s.profile == "prod"
    assert s.task_queue == "q1"
    assert s.embedded is False
    assert s.transport == "scripted"
    assert s.models == {
        "HAIKU": "my-haiku",
        "SONNET": "my-sonnet",
        "OPUS": DEFAULT_MODELS["OPUS"],
        "MINI": "my-mini",
    }
    assert s.model_for("mini") == "my-mini"
    assert (s.heartbeat_seconds, s.worker_shutdown_seconds, s.server_start_seconds) == (
        2.0,
        3.5,
        45.0,
    )


def test_env_overrides_beat_config(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(
        home,
        "temporal:\n  address: file:1\n  namespace: filens\n  task_queue: fileq\n"
        "transport: claude\nmodels:\n  HAIKU: file-haiku\n  OPUS: file-opus\n",
    )
    monkeypatch.setenv("TEMPORAL_ADDRESS", "env:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "envns")
    monkeypatch.setenv("SAGAFLOW_TASK_QUEUE", "envq")
    monkeypatch.setenv("SAGAFLOW_TRANSPORT", "ANTHROPIC")
    monkeypatch.setenv("SAGAFLOW_MODEL_HAIKU", "env-haiku")
    s = load_settings(home)
    assert s.address == "env:7233"
    assert s.address_from_user is True
    assert s.namespace == "envns"
    assert s.task_queue == "envq"
    assert s.transport == "anthropic"
    assert s.model_for("HAIKU") == "env-haiku"
    assert s.model_for("opus") == "file-opus"


def test_env_overrides_without_config_file(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "host:1234")
    monkeypatch.setenv("SAGAFLOW_MODEL_HAIKU", "h")
    s = load_settings(home)
    assert s.address == "host:1234"
    assert s.address_from_user is True
    assert s.models["HAIKU"] == "h"


def test_embedded_env_flag(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(home).embedded is True
    monkeypatch.setenv("SAGAFLOW_EMBEDDED", "0")
    assert load_settings(home).embedded is False
    monkeypatch.setenv("SAGAFLOW_EMBEDDED", "1")
    write_config(home, "temporal:\n  embedded: false\n")
    assert load_settings(home).embedded is True


def test_bad_yaml_names_the_file(home: Home) -> None:
    path = write_config(home, "temporal: [unclosed\n  address: x\n")
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_non_mapping_config_names_the_file(home: Home, text: str) -> None:
    path = write_config(home, text)
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    assert str(path) in str(info.value)
    assert "mapping" in str(info.value)


@pytest.mark.parametrize("section", ["temporal", "timeouts", "models"])
def test_non_mapping_section_names_the_file(home: Home, section: str) -> None:
    path = write_config(home, f"{section}: [1, 2]\n")
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    assert str(path) in str(info.value)
    assert section in str(info.value)


@pytest.mark.parametrize("value", ["abc", "-1", "0", "[1]"])
def test_bad_number_names_file_and_key(home: Home, value: str) -> None:
    path = write_config(home, f"timeouts:\n  heartbeat_seconds: {value}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    assert str(path) in str(info.value)
    assert "timeouts.heartbeat_seconds" in str(info.value)


def test_unknown_transport_is_config_error(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home, "transport: carrier-pigeon\n")
    with pytest.raises(ConfigError, match="carrier-pigeon"):
        load_settings(home)
    home.config_file.unlink()
    monkeypatch.setenv("SAGAFLOW_TRANSPORT", "smoke-signals")
    with pytest.raises(ConfigError, match="smoke-signals"):
        load_settings(home)


def test_model_for_known_tiers_case_insensitive() -> None:
    s = Settings()
    assert s.model_for("haiku") == DEFAULT_MODELS["HAIKU"]
    assert s.model_for("Sonnet") == DEFAULT_MODELS["SONNET"]
    assert s.model_for("OPUS") == DEFAULT_MODELS["OPUS"]


@pytest.mark.parametrize("tier", ["ULTRA", "", "haiku2", "opus-max"])
def test_unknown_tier_is_an_error_not_an_upgrade(tier: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings().model_for(tier)
    message = str(info.value)
    assert repr(tier) in message
    for known in config.TIERS:
        assert known in message


def test_with_overrides() -> None:
    base = Settings()
    same = base.with_overrides(address=None, namespace=None)
    assert same == base
    changed = base.with_overrides(address="h:1", transport="scripted", namespace=None)
    assert changed.address == "h:1"
    assert changed.address_from_user is True
    assert changed.transport == "scripted"
    assert changed.namespace == base.namespace
    assert base.address == "localhost:7233"  # original untouched


# --- run ids and records -------------------------------------------------------

# suffix: 6 chars from an alphabet without 0/1/l/o (the original 4 collided; see new_run_id)
RUN_ID = re.compile(r"^(?P<skill>.+)-(?P<date>\d{8})-(?P<time>\d{6})-(?P<suffix>[a-km-z2-9]{6})$")


def test_run_id_format() -> None:
    run_id = runrecord.new_run_id("hello-world", datetime(2026, 11, 21, 10, 15, 0))
    match = RUN_ID.match(run_id)
    assert match is not None
    assert match["skill"] == "hello-world"
    assert match["date"] == "20261121"
    assert match["time"] == "101500"
    assert runrecord.check_run_id(run_id) == run_id


def test_run_id_uses_current_time() -> None:
    before = datetime.now().replace(microsecond=0)
    run_id = runrecord.new_run_id("s")
    after = datetime.now()
    match = RUN_ID.match(run_id)
    assert match is not None
    stamp = datetime.strptime(f"{match['date']}{match['time']}", "%Y%m%d%H%M%S")
    assert before <= stamp <= after


def test_run_id_suffix_avoids_ambiguous_characters() -> None:
    now = datetime(2026, 1, 1)
    suffixes = {RUN_ID.match(runrecord.new_run_id("s", now))["suffix"] for _ in range(300)}  # type: ignore[index]
    assert not set("".join(suffixes)) & set("01lo")
    assert len(suffixes) == 300  # 2**30 possible suffixes: a repeat here is a broken generator


def test_run_id_suffix_has_enough_entropy_for_2000_per_second() -> None:
    # Birthday bound: P(any collision among 2000 same-second ids) = n^2 / (2 * space).
    sample = runrecord.new_run_id("s", datetime(2026, 1, 1))
    suffix = RUN_ID.match(sample)["suffix"]  # type: ignore[index]
    space = 32 ** len(suffix)
    assert 2000**2 / (2 * space) < 0.01


class _Plain:
    """A stand-in workflow class; prepare() never runs it."""


def test_2000_run_ids_in_the_same_second_are_unique(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated in one (frozen) second through prepare(), which claims each run dir."""
    from sagaflow.skills import prepare as launcher
    from sagaflow.skills.discovery import LoadedSkills, SkillInfo
    from sagaflow.skills.registry import SkillRegistry, SkillSpec

    frozen = datetime(2026, 11, 21, 10, 15, 0)
    monkeypatch.setattr(launcher, "new_run_id", lambda skill: runrecord.new_run_id(skill, frozen))
    skill_dir = tmp_path / "skill"
    skill_dir.mkdir()
    (skill_dir / "replies.yaml").write_text("replies: []\n", encoding="utf-8")
    registry = SkillRegistry()
    registry.register(SkillSpec(name="skill", workflow_cls=_Plain))
    loaded = LoadedSkills(registry, [SkillInfo("skill", skill_dir, "project", "ok")])
    settings = Settings(transport="scripted")

    ids = [launcher.prepare(home, settings, loaded, "skill", {}).run_id for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert all(i.startswith("skill-20261121-101500-") for i in ids)
    assert len(list(home.runs.iterdir())) == 2000
    for run_id in ids[:: 97]:
        record = runrecord.read_record(home, run_id)
        assert record is not None and record.run_id == run_id


@pytest.mark.parametrize(
    "bad",
    ["../x", "..", "", " ", "has space", "a/b", ".hidden", "-dash-first", "x" * 201, "tab\there",
     "trailing-newline\n", "new\nline", "back\\slash", "nul\0", "caf\u00e9"],
)
def test_check_run_id_rejects(bad: str) -> None:
    with pytest.raises(UsageError):
        runrecord.check_run_id(bad)


@pytest.mark.parametrize("good", ["a", "hello-world-20261121-101500-k3f9", "A.b_c-1", "x" * 200])
def test_check_run_id_accepts(good: str) -> None:
    assert runrecord.check_run_id(good) == good


def test_record_round_trip(home: Home) -> None:
    record = RunRecord(
        run_id="hello-world-20261121-101500-k3f9",
        skill="hello-world",
        skill_dir="/somewhere/skills/hello-world",
        args={"name": "alice", "max_items": "3"},
        transport="scripted",
        task_queue="q1",
        created="2026-11-21T10:15:00+00:00",
    )
    runrecord.write_record(home, record)
    path = home.run_dir(record.run_id) / "run.json"
    assert json.loads(path.read_text(encoding="utf-8")) == record.to_dict()
    assert runrecord.read_record(home, record.run_id) == record
    assert not list(path.parent.glob("*.tmp"))


def test_record_overwrite(home: Home) -> None:
    runrecord.write_record(home, RunRecord("r-1", "s", "/d", transport="anthropic"))
    runrecord.write_record(home, RunRecord("r-1", "s", "/d", transport="claude"))
    again = runrecord.read_record(home, "r-1")
    assert again is not None and again.transport == "claude"


def test_read_record_missing_or_corrupt(home: Home) -> None:
    assert runrecord.read_record(home, "nope") is None
    run_dir = home.run_dir("bad")
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text("{not json", encoding="utf-8")
    assert runrecord.read_record(home, "bad") is None
    (run_dir / "run.json").write_text('{"run_id": "bad"}', encoding="utf-8")  # fields missing
    assert runrecord.read_record(home, "bad") is None


@pytest.mark.parametrize("content", ["[1, 2]", "null", '"text"'])
def test_read_record_non_object_json_is_none(home: Home, content: str) -> None:
    run_dir = home.run_dir("bad")
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(content, encoding="utf-8")
    assert runrecord.read_record(home, "bad") is None


def test_read_record_ignores_unknown_keys(home: Home) -> None:
    run_dir = home.run_dir("r-1")
    run_dir.mkdir(parents=True)
    data = {"run_id": "r-1", "skill": "s", "skill_dir": "/d", "future_field": 1}
    (run_dir / "run.json").write_text(json.dumps(data), encoding="utf-8")
    assert runrecord.read_record(home, "r-1") == RunRecord("r-1", "s", "/d")


def test_write_record_unwritable_is_home_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(HomeError, match=r"run\.json"):
        runrecord.write_record(Home(blocker), RunRecord("r-1", "s", "/d"))
