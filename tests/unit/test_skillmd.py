"""SKILL.md parsing, validation and Claude Code's argument substitution."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow.agent.skillmd import read_skillmd, substitute, system_prompt, user_message
from sagaflow.errors import SkillLoadError
from sagaflow.skills.args import parse_skill_args
from sagaflow.skills.discovery import load_skills
from sagaflow.skills.skillmd_spec import _free_text


def _skill(tmp_path: Path, text: str, name: str = "demo") -> Path:
    skill = tmp_path / name
    skill.mkdir()
    (skill / "SKILL.md").write_text(text, encoding="utf-8")
    return skill


def test_frontmatter_and_body(tmp_path: Path) -> None:
    skill = read_skillmd(_skill(tmp_path, (
        "---\nname: demo\ndescription: Demo skill\nallowed-tools: Read, Bash(git log:*), Grep\n"
        "argument-hint: '[topic]'\nmetadata:\n  sagaflow: {max-turns: 7}\n---\nBody $ARGUMENTS\n"
    )), frozenset({"Read", "Bash", "Grep"}))
    assert skill.allowed_tools == ("Read", "Bash(git log:*)", "Grep")
    assert (skill.description, skill.argument_hint, skill.options) == (
        "Demo skill", "[topic]", {"max-turns": 7})
    assert "Body cats" in system_prompt(skill, "cats", "/w")


@pytest.mark.parametrize(("text", "needle"), [
    ("---\nname: demo\ndescription: [unclosed\n---\nbody", "SKILL.md:3: the frontmatter is not valid"),
    ("---\nname: demo\n  bad: : indent\n---\n", "SKILL.md:"),
    ("no frontmatter\n", "SKILL.md:1: SKILL.md must start with a '---' line"),
    ("---\nname: demo\n", "no closing '---'"),
    ("---\nname: Demo_Skill\n---\n", "must be lower-case letters"),
    ("---\nname: other\n---\n", "differs from its directory 'demo'"),
    ("---\nname: demo\ndescription: " + "x" * 1100 + "\n---\n", "more than 1024"),
    ("---\nname: demo\nallowed-tools: Read, Teleport\n---\n", "unknown tool 'Teleport'"),
    ("---\n- a list\n---\n", "must be a YAML mapping"),
])
def test_bad_skillmd_is_named(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(SkillLoadError) as info:
        read_skillmd(_skill(tmp_path, text), frozenset({"Read"}))
    assert needle in info.value.message
    assert str(tmp_path / "demo" / "SKILL.md") in info.value.message


def test_mcp_and_unsupported_tools_pass_validation(tmp_path: Path) -> None:
    skill = read_skillmd(_skill(tmp_path, (
        "---\nname: demo\nallowed-tools: [mcp__github__search, WebSearch, Agent]\n---\n"
    )), frozenset({"Task"}))
    assert skill.allowed_tools == ("mcp__github__search", "WebSearch", "Agent")


@pytest.mark.parametrize(("body", "arguments", "expected"), [
    ("all: $ARGUMENTS", "a 'b c' d", "all: a 'b c' d"),
    ("first $0, second $1", "a 'b c' d", "first a, second b c"),
    ("$ARGUMENTS[2] and $ARGUMENTS[9]", "a b c", "c and $ARGUMENTS[9]"),
    ("missing $3 stays", "a", "missing $3 stays"),
    ("$10 is not $1", "a b", "$10 is not b"),
])
def test_substitution_follows_claude_code(body: str, arguments: str, expected: str) -> None:
    assert substitute(body, arguments) == expected


def test_free_text_and_options_become_the_user_message() -> None:
    args = parse_skill_args([], ["cats", "and dogs", "--audience", "kids"])
    assert args == {"_extra": '["cats", "and dogs"]', "audience": "kids"}
    text = _free_text(args.pop("_extra"))
    assert text == "cats 'and dogs'"
    assert user_message(text, args) == "cats 'and dogs'\naudience: kids"
    assert user_message("", {}) == "Run this skill."


def test_discovery_lists_skillmd_with_kind_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj" / ".claude" / "skills"
    root.mkdir(parents=True)
    (tmp_path / "proj" / ".git").mkdir()
    _skill(root, "---\nname: good\ndescription: A good one\n---\nDo it.\n", "good")
    _skill(root, "---\nname: bad\ndescription: [x\n---\n", "bad")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("SAGAFLOW_SKILLS_PATH", raising=False)
    loaded = load_skills(tmp_path / "proj")
    infos = {i.name: i for i in loaded.infos if i.origin == "project"}
    assert (infos["good"].kind, infos["good"].status, infos["good"].description) == (
        "skillmd", "ok", "A good one")
    assert infos["bad"].status == "error" and "SKILL.md:3" in str(infos["bad"].error)
    spec = loaded.registry.get("good")
    assert spec is not None and spec.kind == "skillmd"
    assert spec.workflow_name == "sagaflow_agent_loop"
