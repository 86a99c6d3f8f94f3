"""A broken or missing replies.yaml is one line that says what to fix (the run's failure
reason and ``sagaflow test``'s case line show it as is)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow.errors import ModelError
from sagaflow.models import scripted, scripted_turns


def _fails(skill: Path) -> str:
    with pytest.raises(ModelError) as info:
        scripted.call(skill_dir=skill, model="m", system="", user="Greet ann")
    assert not info.value.retryable
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    assert _fails(tmp_path) == (
        f"{tmp_path / 'replies.yaml'} does not exist; create it with a 'replies:' list of "
        "{match, reply} rules (a skill made by 'sagaflow new' has one to copy).")


def test_a_directory_in_its_place_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "replies.yaml").mkdir()
    assert _fails(tmp_path) == (
        f"Cannot read scripted replies {tmp_path / 'replies.yaml'}: Is a directory.")


def test_broken_yaml_names_the_line_without_pyyamls_caret_drawing(tmp_path: Path) -> None:
    (tmp_path / "replies.yaml").write_text("replies:\n  - match: [unclosed\n")
    assert _fails(tmp_path) == (
        f"{tmp_path / 'replies.yaml'}:3: not valid YAML (expected ',' or ']', but got "
        "'<stream end>'); fix it.")


@pytest.mark.parametrize("module", [scripted, scripted_turns])
def test_a_bad_regex_names_its_pattern(tmp_path: Path, module: object) -> None:
    (tmp_path / "replies.yaml").write_text('replies:\n  - {match: "(ann", reply: hi}\n')
    with pytest.raises(ModelError) as info:
        if module is scripted:
            scripted.call(skill_dir=tmp_path, model="m", system="", user="Greet (ann)")
        else:
            scripted_turns.call(skill_dir=tmp_path,
                                messages=[{"role": "user", "content": "Greet (ann)"}])
    assert str(info.value).startswith("Bad regex '(ann' in replies.yaml: missing ), ")
    assert str(info.value).endswith("to match them literally).")
