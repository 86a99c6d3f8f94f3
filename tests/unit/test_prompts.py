"""Tests for sagaflow.skills.prompts (prompt files with $name substitution)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow.errors import PromptError
from sagaflow.skills.prompts import load_prompt, prompt_path, render


@pytest.fixture
def skill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake skill directory with a module file and a prompts/ folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sagaflow"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    root = tmp_path / "myskill"
    (root / "prompts").mkdir(parents=True)
    module = root / "__init__.py"
    module.write_text("# skill module\n", encoding="utf-8")
    return module


def write_prompt(module: Path, name: str, text: str) -> Path:
    path = module.parent / "prompts" / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_prompt_path_is_next_to_module(skill: Path) -> None:
    expected = skill.parent.resolve() / "prompts" / "greeter.user.md"
    assert prompt_path(str(skill), "greeter.user") == expected
    assert prompt_path(str(skill), "greeter.user.md") == expected


def test_load_with_substitution(skill: Path) -> None:
    write_prompt(skill, "greeter.user", "Greet $name from ${place}s!\n")
    text = load_prompt(str(skill), "greeter.user", {"name": "alice", "place": "Paris"})
    assert text == "Greet alice from Pariss!\n"


def test_non_string_values_are_converted(skill: Path) -> None:
    write_prompt(skill, "p", "n=$n f=$f")
    assert load_prompt(str(skill), "p", {"n": 3, "f": 1.5}) == "n=3 f=1.5"


def test_double_dollar_is_literal(skill: Path) -> None:
    write_prompt(skill, "price", "It costs $$5 for $who; $${braced}")
    assert load_prompt(str(skill), "price", {"who": "bob"}) == "It costs $5 for bob; ${braced}"


def test_extra_substitutions_are_ignored(skill: Path) -> None:
    write_prompt(skill, "p", "hi $a")
    assert load_prompt(str(skill), "p", {"a": "x", "unused": "y"}) == "hi x"


def test_missing_variable_names_it(skill: Path) -> None:
    write_prompt(skill, "research", "Research $topic for $name.")
    with pytest.raises(PromptError) as info:
        load_prompt(str(skill), "research", {"name": "alice"})
    message = str(info.value)
    assert "$topic" in message
    assert "'topic'" in message
    assert "research.md" in message
    assert "name" in message  # lists what was given


def test_missing_braced_variable_names_it(skill: Path) -> None:
    write_prompt(skill, "p", "x ${depth} y")
    with pytest.raises(PromptError, match="depth"):
        load_prompt(str(skill), "p", {})


def test_malformed_placeholder_is_prompt_error(skill: Path) -> None:
    write_prompt(skill, "money", "costs $5 today")
    with pytest.raises(PromptError, match=r"\$\$"):
        load_prompt(str(skill), "money", {})


def test_missing_file_is_prompt_error(skill: Path) -> None:
    with pytest.raises(PromptError) as info:
        load_prompt(str(skill), "nope", {"a": "b"})
    assert "nope.md" in str(info.value)
    assert "does not exist" in str(info.value)


def test_missing_file_without_substitutions(skill: Path) -> None:
    with pytest.raises(PromptError, match=r"nope\.md"):
        load_prompt(str(skill), "nope")


def test_none_substitutions_returns_raw_text(skill: Path) -> None:
    raw = "Keep $this and ${that} and $$ and $5 as written.\n"
    write_prompt(skill, "raw", raw)
    assert load_prompt(str(skill), "raw") == raw
    assert load_prompt(str(skill), "raw", None) == raw


def test_empty_substitutions_on_text_without_placeholders(skill: Path) -> None:
    write_prompt(skill, "plain", "no placeholders here")
    assert load_prompt(str(skill), "plain", {}) == "no placeholders here"


def test_render_directly() -> None:
    assert render("a $x ${y} $$", {"x": 1, "y": "two"}) == "a 1 two $"
    with pytest.raises(PromptError) as info:
        render("a $x", {}, source="Inline prompt")
    assert str(info.value).startswith("Inline prompt uses $x")
    assert "given: none" in str(info.value)
