"""The sagaflow 0.10 names without a server: WorkflowState, load_claude_skill_prompt,
TASK_QUEUE, output_schema parsing and validation, and the import diagnostics (every
missing import at once, 0.10 internals named, a broken skill hiding a working one)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagaflow._engine import schema_output
from sagaflow.durable.state import ActivityOutcome, WorkflowState
from sagaflow.errors import PromptError, SagaflowError, SchemaOutputError
from sagaflow.prompts import load_claude_skill_prompt
from sagaflow.skills import discovery
from sagaflow.skills.discovery import load_skills
from sagaflow.skills.imports import missing_imports
from sagaflow.skills.unsupported import UnsupportedImportError, install_unsupported_finder

SCHEMA = {
    "type": "object",
    "properties": {"N": {"type": "integer"}, "TAGS": {"type": "array", "items": {"type": "string"}}},
    "required": ["N"],
}


def test_workflow_state_keeps_the_010_behaviour() -> None:
    state = WorkflowState(run_id="r1", skill="s")
    assert state.increment_generation() == 1
    state.record_outcome(ActivityOutcome("a1", "critic", "completed"))
    state.add_cost(input_tokens=1_000_000, output_tokens=0, haiku=True)
    state.add_cost(input_tokens=0, output_tokens=1_000_000, haiku=False)
    assert state.cost_running_total == pytest.approx(1.0 + 15.0)
    state.set_terminal("done")
    with pytest.raises(SagaflowError, match="already ended as 'done'"):
        state.set_terminal("again")


def test_load_claude_skill_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    skills = tmp_path / "skills"
    (skills / "my-skill" / "prompts").mkdir(parents=True)
    (skills / "my-skill" / "prompts" / "critic.md").write_text("Judge $thing.")
    monkeypatch.setenv("CLAUDE_SKILLS_DIR", str(skills))
    assert load_claude_skill_prompt("my-skill", "critic") == "Judge $thing."
    assert load_claude_skill_prompt("my-skill", "critic", substitutions={"thing": "x"}) == "Judge x."
    with pytest.raises(PromptError, match=r"\$thing"):
        load_claude_skill_prompt("my-skill", "critic", substitutions={"other": "y"})
    with pytest.raises(PromptError, match=r"my-skill/prompts/absent\.md is in no skills directory"):
        load_claude_skill_prompt("my-skill", "absent")
    monkeypatch.delenv("CLAUDE_SKILLS_DIR")
    monkeypatch.setenv("SAGAFLOW_SKILLS_PATH", str(skills))  # found on the skill search path too
    assert load_claude_skill_prompt("my-skill", "critic") == "Judge $thing."


def test_task_queue_outside_a_workflow_is_the_configured_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("SAGAFLOW_TASK_QUEUE", "my-queue")
    from sagaflow.temporal_client import TASK_QUEUE

    assert TASK_QUEUE == "my-queue"


@pytest.mark.parametrize(("text", "value"), [
    ('{"N": 1}', {"N": 1}),
    ('Sure:\n```json\n{"N": 2, "TAGS": ["a"]}\n```\nDone.', {"N": 2, "TAGS": ["a"]}),
    ('The answer is {"N": 3} as asked.', {"N": 3}),
    ("[1, 2]", [1, 2]),
])
def test_extract_json(text: str, value: object) -> None:
    assert schema_output.extract_json(text) == (value, None)


def test_problems_are_named() -> None:
    assert schema_output.problem_of("no json here", SCHEMA)[1] == (
        "the reply is not JSON (Expecting value at line 1 column 1)")
    assert schema_output.problem_of('{"TAGS": []}', SCHEMA)[1] == (
        "the JSON does not match the schema ('N' is a required property)")
    assert "at TAGS/0: 5 is not of type 'string'" in str(
        schema_output.problem_of('{"N": 1, "TAGS": [5]}', SCHEMA)[1])


def test_output_keeps_the_010_shape() -> None:
    assert schema_output.as_output({"N": 1, "S": "x", "L": [1]}) == {"N": "1", "S": "x", "L": "[1]"}
    assert schema_output.as_output([1, 2]) == {"JSON": "[1, 2]"}


def test_an_invalid_schema_is_refused_before_any_call() -> None:
    with pytest.raises(SchemaOutputError, match="not a valid JSON schema at properties/N/type"):
        schema_output.check_schema({"properties": {"N": {"type": "integr"}}})
    assert not SchemaOutputError("x").retryable


@pytest.fixture
def restore_skills() -> Iterator[None]:
    locations = dict(discovery._FINDER.locations)
    before = {k for k in sys.modules if k == "skills" or k.startswith("skills.")}
    yield
    for name in [k for k in sys.modules if (k == "skills" or k.startswith("skills.")) and k not in before]:
        del sys.modules[name]
    discovery._FINDER.locations = locations


BROKEN_010 = '''\
from sagaflow import skill
from sagaflow.durable.activities import FinalizeManifestInput, NoSuchInput
from sagaflow.rlm.runner import run_rlm
import not_a_real_package_xyz
from .helpers import present, absent_name
from .gone import anything


def register(registry):
    lazy = __import__("sagaflow.transport.mcp_registry")
'''


def test_every_missing_import_is_listed_at_once(tmp_path: Path) -> None:
    skill = tmp_path / "old-skill"
    skill.mkdir()
    (skill / "__init__.py").write_text(BROKEN_010)
    (skill / "helpers.py").write_text("present = 1\n")
    (skill / "scripts").mkdir()  # not part of the package: never imported by the skill
    (skill / "scripts" / "tool.py").write_text("import another_missing_thing\n")
    install_unsupported_finder()
    found = {m.what: m.why for m in missing_imports(skill, "skills.old_skill")}
    assert found == {
        "sagaflow.skill": "sagaflow 0.10's @skill decorator, which this sagaflow does not support",
        "sagaflow.durable.activities.NoSuchInput": "sagaflow.durable.activities has no NoSuchInput "
                                                   "in this sagaflow",
        "sagaflow.rlm.runner": "sagaflow 0.10's RLM runner, which this sagaflow does not support",
        "not_a_real_package_xyz": "not installed",
        "skills.old_skill.gone": "no such module in the skill",
    }


def test_a_010_internal_fails_at_import_with_one_line() -> None:
    install_unsupported_finder()
    with pytest.raises(UnsupportedImportError) as info:
        importlib.import_module("sagaflow.transport.mcp_registry")
    assert str(info.value) == (
        "sagaflow.transport.mcp_registry is sagaflow 0.10's MCP registry (MCP servers), which "
        "this sagaflow does not support; rewrite that part with sagaflow.workflow's API, or "
        "remove it."
    )
    assert isinstance(info.value, ImportError)  # a skill's `except ImportError` still works
    assert isinstance(info.value, SagaflowError) and not info.value.retryable
    with pytest.raises(ImportError, match="@skill decorator"):
        exec("from sagaflow import skill", {})
    with pytest.raises(ImportError, match="MCP registry"):
        exec("from sagaflow.transport.mcp_registry import resolve_and_generate", {})
    with pytest.raises(ImportError, match="RLM runner"):
        exec("from sagaflow.rlm.runner import run_rlm", {})


def test_broken_user_skill_hiding_a_working_one_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_skills: None
) -> None:
    user, lower = tmp_path / "claude" / "skills", tmp_path / "lower"
    for root in (user, lower):
        (root / "dup-skill").mkdir(parents=True)
    (user / "dup-skill" / "__init__.py").write_text(
        "from sagaflow.rlm.runner import run_rlm\nimport missing_pkg_abc\n")
    (lower / "dup-skill" / "__init__.py").write_text(
        "from temporalio import workflow\nfrom sagaflow.registry import SkillSpec\n\n"
        "@workflow.defn(name='DupWf')\nclass Wf:\n    @workflow.run\n"
        "    async def run(self) -> str:\n        return 'ok'\n\n"
        "def register(registry):\n    registry.register(SkillSpec(name='dup-skill', workflow_cls=Wf))\n"
    )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.setenv("SAGAFLOW_SKILLS_PATH", str(lower))
    loaded = load_skills(tmp_path)
    info = next(i for i in loaded.infos if i.name == "dup-skill" and i.status == "error")
    assert "2 imports are not available: sagaflow.rlm.runner at __init__.py:1" in (info.error or "")
    assert "missing_pkg_abc at __init__.py:2 (not installed)" in (info.error or "")
    assert f"It hides the working path skill of the same name at {lower / 'dup-skill'}" in (
        info.error or "")
    assert loaded.registry.get("dup-skill") is None  # reported, not silently swapped


def test_free_text_is_shown_as_typed() -> None:
    from sagaflow.cli.render import skill_args
    from sagaflow.skills.args import parse_skill_args

    args = parse_skill_args([], ["--max-rounds", "2", "fix", "the flaky test"])
    assert skill_args(args) == "--max-rounds 2 fix 'the flaky test'"
