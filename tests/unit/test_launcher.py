"""Tests for sagaflow.skills.prepare: argument parsing, skill lookup and launch preparation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sagaflow.config import Settings
from sagaflow.errors import (
    HomeError,
    PromptError,
    SkillArgumentError,
    SkillLoadError,
    TransportError,
    UnknownSkillError,
    UsageError,
)
from sagaflow.paths import Home
from sagaflow.runrecord import RunRecord, read_record, write_record
from sagaflow.skills.args import TrackingArgs, parse_skill_args, skill_view
from sagaflow.skills.discovery import LoadedSkills, SkillInfo
from sagaflow.skills.prepare import find_skill, prepare
from sagaflow.skills.prompts import load_prompt
from sagaflow.skills.registry import SkillRegistry, SkillSpec

SCRIPTED = Settings(transport="scripted", task_queue="test-queue")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sagaflow"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "SAGAFLOW_TRANSPORT"):
        monkeypatch.delenv(name, raising=False)


# --- parse_skill_args ----------------------------------------------------------


def test_arg_pairs() -> None:
    assert parse_skill_args(["name=alice", "max-items=3", "expr=a=b", "empty="], []) == {
        "name": "alice",
        "max_items": "3",
        "expr": "a=b",
        "empty": "",
    }


def test_key_value_forms() -> None:
    extra = ["--name", "alice", "--max-items=3", "--verbose", "true", "--topic", "x y"]
    assert parse_skill_args([], extra) == {
        "name": "alice",
        "max_items": "3",
        "verbose": "true",
        "topic": "x y",
    }


@pytest.mark.parametrize("extra", [["--name"], ["--a", "--b", "1"], ["--b", "1", "--c"]])
def test_bare_option_is_refused_with_the_fix(extra: list[str]) -> None:
    with pytest.raises(SkillArgumentError, match=r"give it a value: --\w+ VALUE"):
        parse_skill_args([], extra)


@pytest.mark.parametrize(("pairs", "extra", "named"), [
    (["name=b"], ["--name", "a"], "--arg name=b and --name a"),
    ([], ["--name", "a", "--name=b"], "--name a and --name b"),
    ([], ["--dry-run", "x", "--dry_run", "y"], "--dry-run x and --dry_run y"),
    (["k=1", "k=2"], [], "--arg k=1 and --arg k=2"),
])
def test_a_key_given_twice_is_refused_naming_both(
    pairs: list[str], extra: list[str], named: str
) -> None:
    with pytest.raises(SkillArgumentError, match="given twice") as info:
        parse_skill_args(pairs, extra)
    assert named in info.value.message


def test_value_may_start_with_single_dash() -> None:
    assert parse_skill_args([], ["--offset", "-5"]) == {"offset": "-5"}


def test_pairs_and_options_combine() -> None:
    assert parse_skill_args(["name=a"], ["--topic", "b"]) == {"name": "a", "topic": "b"}


@pytest.mark.parametrize("bad", ["novalue", "=value", " =x"])
def test_malformed_arg_pair(bad: str) -> None:
    with pytest.raises(SkillArgumentError) as info:
        parse_skill_args([bad], [])
    assert "key=value" in str(info.value)
    assert isinstance(info.value, UsageError)
    assert info.value.exit_code == 2


@pytest.mark.parametrize("extra", [["-x"], ["--name", "alice", "-v"]])
def test_single_dash_option_is_refused(extra: list[str]) -> None:
    with pytest.raises(SkillArgumentError, match="Unexpected argument"):
        parse_skill_args([], extra)


@pytest.mark.parametrize(("extra", "words", "named"), [
    (["stray"], ["stray"], {}),
    (["--name", "alice", "fix", "the", "bug"], ["fix", "the", "bug"], {"name": "alice"}),
    (["--a", "1", "2"], ["2"], {"a": "1"}),
    (["--", "--not-an-option", "-x"], ["--not-an-option", "-x"], {}),
    (["--"], None, {}),
])
def test_free_text_becomes_extra(
    extra: list[str], words: list[str] | None, named: dict[str, str]
) -> None:
    """sagaflow 0.10 skills read positional launch text as cli_args["_extra"] (a list)."""
    args = parse_skill_args([], extra)
    assert skill_view(args).get("_extra") == words
    assert {k: v for k, v in args.items() if k != "_extra"} == named
    assert all(isinstance(v, str) for v in args.values())  # the record keeps text only


def test_tracking_args_records_reads() -> None:
    tracked = TrackingArgs({"a": "1", "b": "2"})
    assert tracked.get("a") == "1"
    assert tracked.get("zzz", "dflt") == "dflt"
    assert tracked["b"] == "2"
    assert "c" not in tracked
    assert tracked.asked == {"a", "b", "c", "zzz"}
    assert tracked.took_all is False
    with pytest.raises(KeyError):
        tracked["missing"]
    assert "missing" in tracked.asked


@pytest.mark.parametrize(
    "consume",
    [
        lambda t: list(t),
        lambda t: dict(t),
        lambda t: {**t},
        lambda t: list(t.items()),
        lambda t: list(t.keys()),
    ],
)
def test_tracking_args_whole_dict_use(consume: Callable[[TrackingArgs], Any]) -> None:
    tracked = TrackingArgs({"a": "1"})
    consume(tracked)
    assert tracked.took_all is True


# --- fixtures for prepare / find_skill -----------------------------------------


class FakeWorkflow:
    """prepare() never runs the workflow; a plain class is enough."""


def build_greeting(*, run_id: str, run_dir: str, inbox_path: str, cli_args: Any) -> dict[str, str]:
    return {
        "run_id": run_id,
        "run_dir": run_dir,
        "inbox_path": inbox_path,
        "name": cli_args.get("name") or "world",
        "topic": cli_args["topic"],
    }


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "sagaflow")


@pytest.fixture
def skill_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "skills" / "greet"
    (directory / "prompts").mkdir(parents=True)
    (directory / "replies.yaml").write_text(
        'replies:\n  - match: "Greet (?P<name>.+)"\n    reply: "hi $name"\n', encoding="utf-8"
    )
    return directory


def make_loaded(skill_dir: Path, *specs: SkillSpec, infos: list[SkillInfo] | None = None) -> (
    LoadedSkills
):
    registry = SkillRegistry()
    extra = list(infos or [])
    for spec in specs:
        registry.register(spec)
        extra.append(SkillInfo(spec.name, skill_dir, "project", "ok", workflow="FakeWorkflow"))
    return LoadedSkills(registry, extra, [])


def greet_spec(
    build: Callable[..., Any] | None = build_greeting, arguments: list[str] | None = None
) -> SkillSpec:
    return SkillSpec(
        name="greet", workflow_cls=FakeWorkflow, build_input=build, arguments=arguments
    )


def run_dirs(home: Home) -> list[Path]:
    return sorted(home.runs.iterdir()) if home.runs.exists() else []


# --- find_skill ----------------------------------------------------------------


def test_find_skill_returns_spec(skill_dir: Path) -> None:
    spec = greet_spec()
    loaded = make_loaded(skill_dir, spec)
    assert find_skill(loaded, "greet") is spec


def test_unknown_skill_lists_near_names(skill_dir: Path) -> None:
    loaded = make_loaded(
        skill_dir,
        greet_spec(),
        SkillSpec(name="greeting-card", workflow_cls=FakeWorkflow),
        SkillSpec(name="deep-research", workflow_cls=FakeWorkflow),
    )
    with pytest.raises(UnknownSkillError) as info:
        find_skill(loaded, "gret")
    message = str(info.value)
    assert "'gret'" in message
    assert "did you mean greet" in message
    assert "deep-research" in message  # the full listing names every skill
    assert info.value.exit_code == 2


def test_unknown_skill_without_near_match(skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(UnknownSkillError) as info:
        find_skill(loaded, "zzzzzz")
    assert "did you mean" not in str(info.value)
    assert "available: greet" in str(info.value)


def test_unknown_skill_in_empty_registry(tmp_path: Path) -> None:
    with pytest.raises(UnknownSkillError, match="available: none"):
        find_skill(LoadedSkills(SkillRegistry()), "anything")


def test_find_skill_reports_load_error(skill_dir: Path, tmp_path: Path) -> None:
    broken = SkillInfo(
        "broken-skill", tmp_path / "broken-skill", "user", "error",
        error="Skill /x/broken-skill has a syntax error at __init__.py:3 (invalid syntax); fix it.",
    )
    loaded = make_loaded(skill_dir, greet_spec(), infos=[broken])
    with pytest.raises(SkillLoadError, match=r"syntax error at __init__\.py:3"):
        find_skill(loaded, "broken-skill")


# --- prepare -------------------------------------------------------------------


def test_prepare_success_writes_run_json(home: Home, skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec())
    prepared = prepare(home, SCRIPTED, loaded, "greet", {"name": "alice", "topic": "tea"})
    assert prepared.attach is False
    assert prepared.run_id.startswith("greet-")
    run_dir = home.run_dir(prepared.run_id)
    assert prepared.workflow_input == {
        "run_id": prepared.run_id,
        "run_dir": str(run_dir),
        "inbox_path": str(home.inbox),
        "name": "alice",
        "topic": "tea",
    }
    assert sorted(p.name for p in run_dir.iterdir()) == ["run.json"]
    data = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert data["transport"] == "scripted"
    assert data["skill"] == "greet"
    assert data["skill_dir"] == str(skill_dir)
    assert data["args"] == {"name": "alice", "topic": "tea"}
    assert data["task_queue"] == "test-queue"
    assert datetime.fromisoformat(data["created"]).tzinfo is not None
    assert read_record(home, prepared.run_id) == prepared.record


def test_prepare_transport_override(home: Home, skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec())
    prepared = prepare(home, Settings(transport="anthropic"), loaded, "greet", {"topic": "t"},
                       transport="scripted")
    assert prepared.record.transport == "scripted"


def test_prepare_with_explicit_run_id(home: Home, skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec())
    prepared = prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"}, run_id="my-run.1")
    assert prepared.run_id == "my-run.1"
    assert (home.run_dir("my-run.1") / "run.json").is_file()


def test_prepare_attaches_to_existing_run(home: Home, skill_dir: Path) -> None:
    calls: list[str] = []

    def build(**kw: Any) -> str:
        calls.append("built")
        return "input"

    existing = RunRecord("old-run", "greet", str(skill_dir), {"topic": "x"}, "scripted")
    write_record(home, existing)
    loaded = make_loaded(skill_dir, greet_spec(build))
    prepared = prepare(home, SCRIPTED, loaded, "greet", {"other": "ignored"}, run_id="old-run")
    assert prepared.attach is True
    assert prepared.record == existing
    assert prepared.workflow_input is None
    assert calls == []


def test_prepare_existing_run_of_other_skill(home: Home, skill_dir: Path) -> None:
    write_record(home, RunRecord("old-run", "other-skill", "/d"))
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(SkillArgumentError, match="other-skill"):
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"}, run_id="old-run")


@pytest.mark.parametrize("bad", ["../x", "", "has space"])
def test_prepare_rejects_unsafe_run_id(home: Home, skill_dir: Path, bad: str) -> None:
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(UsageError):
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"}, run_id=bad)
    assert run_dirs(home) == []
    assert not (home.root.parent / "x").exists()


def test_unknown_argument_suggests_near_one(home: Home, skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(SkillArgumentError) as info:
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t", "nmae": "alice"})
    message = str(info.value)
    assert "--nmae" in message
    assert "did you mean --name?" in message
    assert "--topic" in message  # lists what it accepts
    assert run_dirs(home) == []


def test_missing_required_argument(home: Home, skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(SkillArgumentError) as info:
        prepare(home, SCRIPTED, loaded, "greet", {"name": "alice"})
    assert "--topic" in str(info.value)
    assert run_dirs(home) == []


def test_missing_required_underscored_argument_is_shown_dashed(
    home: Home, skill_dir: Path
) -> None:
    def build(*, cli_args: Any, **_: Any) -> str:
        return cli_args["max_items"]

    loaded = make_loaded(skill_dir, greet_spec(build))
    with pytest.raises(SkillArgumentError, match="--max-items"):
        prepare(home, SCRIPTED, loaded, "greet", {})


def test_key_error_on_a_given_argument_is_a_load_error(home: Home, skill_dir: Path) -> None:
    def build(*, cli_args: Any, **_: Any) -> str:
        cli_args["topic"]
        raise KeyError("topic")  # a bug inside build_input, not a missing argument

    loaded = make_loaded(skill_dir, greet_spec(build))
    with pytest.raises(SkillLoadError, match="KeyError"):
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"})
    assert run_dirs(home) == []


def test_declared_arguments(home: Home, skill_dir: Path) -> None:
    built: list[dict[str, str]] = []

    def build(*, cli_args: Any, **_: Any) -> dict[str, str]:
        built.append(dict(cli_args))
        return dict(cli_args)

    loaded = make_loaded(skill_dir, greet_spec(build, arguments=["name", "topic!", "max-items"]))
    with pytest.raises(SkillArgumentError) as info:
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t", "nmae": "x"})
    assert "--nmae" in str(info.value) and "did you mean --name?" in str(info.value)
    with pytest.raises(SkillArgumentError) as info:
        prepare(home, SCRIPTED, loaded, "greet", {"name": "alice"})
    assert "needs --topic" in str(info.value)
    assert built == []  # validated before build_input ran
    assert run_dirs(home) == []

    prepared = prepare(home, SCRIPTED, loaded, "greet", {"topic": "t", "max_items": "3"})
    assert prepared.workflow_input == {"topic": "t", "max_items": "3"}


def test_declared_arguments_allow_unread_ones(home: Home, skill_dir: Path) -> None:
    def build(**_: Any) -> str:
        return "ignores its args"

    loaded = make_loaded(skill_dir, greet_spec(build, arguments=["verbose"]))
    prepared = prepare(home, SCRIPTED, loaded, "greet", {"verbose": "true"})
    assert prepared.workflow_input == "ignores its args"


def test_declared_no_arguments(home: Home, skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec(lambda **_: None, arguments=[]))
    with pytest.raises(SkillArgumentError, match="accepts no arguments"):
        prepare(home, SCRIPTED, loaded, "greet", {"x": "1"})


def test_build_input_taking_everything_accepts_any_argument(home: Home, skill_dir: Path) -> None:
    def build(*, cli_args: Any, **_: Any) -> dict[str, str]:
        return dict(cli_args.items())

    loaded = make_loaded(skill_dir, greet_spec(build))
    prepared = prepare(home, SCRIPTED, loaded, "greet", {"anything": "1", "goes": "2"})
    assert prepared.workflow_input == {"anything": "1", "goes": "2"}


def test_no_build_input_passes_args_dict(home: Home, skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec(None))
    prepared = prepare(home, SCRIPTED, loaded, "greet", {"a": "1"})
    assert prepared.workflow_input == {"a": "1"}
    assert type(prepared.workflow_input) is dict


def test_unknown_skill_in_prepare(home: Home, skill_dir: Path) -> None:
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(UnknownSkillError, match="did you mean greet"):
        prepare(home, SCRIPTED, loaded, "greett", {})
    assert run_dirs(home) == []


def test_failing_build_input_leaves_no_run_dir(home: Home, skill_dir: Path) -> None:
    seen: list[Path] = []

    def build(*, run_dir: str, **_: Any) -> None:
        Path(run_dir, "partial.txt").write_text("half-written", encoding="utf-8")
        seen.append(Path(run_dir))
        raise ValueError("topic must be short")

    loaded = make_loaded(skill_dir, greet_spec(build))
    with pytest.raises(SkillLoadError) as info:
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"})
    message = str(info.value)
    assert "greet" in message
    assert "ValueError: topic must be short" in message
    assert seen and not seen[0].exists()
    assert run_dirs(home) == []


def test_prompt_error_propagates(home: Home, skill_dir: Path) -> None:
    module_file = str(skill_dir / "__init__.py")

    def build(*, cli_args: Any, **_: Any) -> str:
        return load_prompt(module_file, "missing.prompt", {"topic": cli_args["topic"]})

    loaded = make_loaded(skill_dir, greet_spec(build))
    with pytest.raises(PromptError, match=r"missing\.prompt\.md"):
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"})
    assert run_dirs(home) == []


def test_prompt_undefined_variable_propagates(home: Home, skill_dir: Path) -> None:
    (skill_dir / "prompts" / "user.md").write_text("About $topic for $audience", encoding="utf-8")
    module_file = str(skill_dir / "__init__.py")

    def build(*, cli_args: Any, **_: Any) -> str:
        return load_prompt(module_file, "user", {"topic": cli_args["topic"]})

    loaded = make_loaded(skill_dir, greet_spec(build))
    with pytest.raises(PromptError, match="audience"):
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"})
    assert run_dirs(home) == []


def test_anthropic_without_key_is_transport_error(
    home: Home, skill_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(TransportError, match="ANTHROPIC_API_KEY"):
        prepare(home, Settings(transport="anthropic"), loaded, "greet", {"topic": "t"})
    assert run_dirs(home) == []


def test_anthropic_with_key_succeeds(
    home: Home, skill_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-not-real")
    loaded = make_loaded(skill_dir, greet_spec())
    prepared = prepare(home, Settings(transport="auto"), loaded, "greet", {"topic": "t"})
    assert prepared.record.transport == "anthropic"


def test_scripted_without_replies_is_transport_error(home: Home, skill_dir: Path) -> None:
    (skill_dir / "replies.yaml").unlink()
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(TransportError, match=r"replies\.yaml"):
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"})
    assert run_dirs(home) == []


def test_auto_without_any_transport_is_transport_error(
    home: Home, skill_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(TransportError, match="No model transport"):
        prepare(home, Settings(transport="auto"), loaded, "greet", {"topic": "t"})
    assert run_dirs(home) == []


def test_failure_with_preexisting_run_dir_keeps_it(home: Home, skill_dir: Path) -> None:
    run_dir = home.run_dir("kept")
    run_dir.mkdir(parents=True)
    (run_dir / "notes.txt").write_text("user data", encoding="utf-8")
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(SkillArgumentError):
        prepare(home, SCRIPTED, loaded, "greet", {}, run_id="kept")
    assert (run_dir / "notes.txt").read_text(encoding="utf-8") == "user data"


def test_generated_id_collision_picks_a_fresh_one(
    home: Home, skill_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = home.run_dir("greet-taken")
    taken.mkdir(parents=True)
    write_record(home, RunRecord("greet-taken", "greet", str(skill_dir), {"topic": "old"}))
    before = (taken / "run.json").read_bytes()
    candidates = iter(["greet-taken", "greet-taken", "greet-fresh"])
    monkeypatch.setattr("sagaflow.skills.prepare.new_run_id", lambda skill: next(candidates))
    loaded = make_loaded(skill_dir, greet_spec())
    prepared = prepare(home, SCRIPTED, loaded, "greet", {"topic": "new"})
    assert prepared.run_id == "greet-fresh"
    assert (taken / "run.json").read_bytes() == before  # the other run is untouched
    assert read_record(home, "greet-fresh").args == {"topic": "new"}  # type: ignore[union-attr]


def test_endless_id_collisions_give_up_cleanly(
    home: Home, skill_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.run_dir("greet-same").mkdir(parents=True)
    monkeypatch.setattr("sagaflow.skills.prepare.new_run_id", lambda skill: "greet-same")
    loaded = make_loaded(skill_dir, greet_spec())
    with pytest.raises(HomeError):
        prepare(home, SCRIPTED, loaded, "greet", {"topic": "t"})
    assert [p.name for p in run_dirs(home)] == ["greet-same"]
    assert list(home.run_dir("greet-same").iterdir()) == []
