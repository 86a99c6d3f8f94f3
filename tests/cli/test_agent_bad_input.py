"""SKILL.md bad input gets one clear line: frontmatter, scripted without replies, tools, args."""

from __future__ import annotations

from agent_helpers import user_skill
from sandbox import Sandbox, one_line_failure


def test_malformed_frontmatter_is_named_with_file_and_line(sf: Sandbox) -> None:
    skill = sf.user_skills / "broken"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: broken\ndescription: [oops\n---\nbody\n")
    line = one_line_failure(sf.run("launch", "broken"), 1, "SKILL.md:3", "not valid YAML")
    assert str(skill) in line
    listed = sf.run("skills")
    assert "broken" in listed.stdout and "SKILL.md:3" in listed.stderr


def test_scripted_transport_without_replies(sf: Sandbox) -> None:
    user_skill(sf, "plain", "Do a thing.\n")
    one_line_failure(sf.run("launch", "plain", "--transport", "scripted"), 1, "replies.yaml")
    assert not list((sf.home / "runs").glob("plain-*"))


def test_unknown_tool_and_bad_loop_options(sf: Sandbox) -> None:
    user_skill(sf, "odd", "x\n", frontmatter="allowed-tools: Read, Teleport\n")
    one_line_failure(sf.run("launch", "odd"), 1, "unknown tool 'Teleport'")
    user_skill(sf, "fine", "x\n")
    one_line_failure(sf.run("launch", "fine", "--max-turns", "zero"), 2, "--max-turns 'zero'")


def test_python_skill_refuses_free_text(sf: Sandbox) -> None:
    one_line_failure(sf.run("launch", "hello-world", "--name", "a", "stray words"), 2,
                     "stray words", "takes no free text")
