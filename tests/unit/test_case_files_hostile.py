"""Case files and the replies files they name, when they are not what they should be:
one line with the file (and line) and the fix, never an 'unexpected error'."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow.authoring.casefile import load_case
from sagaflow.authoring.cases import CaseError
from sagaflow.authoring.runner import _replies_dir
from sagaflow.errors import UsageError


def _case(tmp_path: Path, data: bytes) -> Path:
    (tmp_path / "tests").mkdir(exist_ok=True)
    path = tmp_path / "tests" / "case.yaml"
    path.write_bytes(data)
    return path


def test_a_case_that_is_not_utf8_names_the_line_and_byte(tmp_path: Path) -> None:
    path = _case(tmp_path, b"args:\n  topic: \xff\n")
    with pytest.raises(CaseError) as info:
        load_case(path)
    assert str(info.value) == f"{path}:2: not UTF-8 text (byte 0xff); save it as UTF-8."


def test_a_named_replies_file_that_is_a_directory_says_so(tmp_path: Path) -> None:
    (tmp_path / "alt.yaml").mkdir()
    path = _case(tmp_path, b"replies: alt.yaml\n")
    with pytest.raises(CaseError, match=r":1: replies file 'alt.yaml' is not a file in "):
        load_case(path)


@pytest.mark.parametrize(("data", "message"), [
    (b"replies: [oops\n", ":2: not valid YAML (expected ',' or ']', but got '<stream end>'); "
                          "fix it."),
    (b"\xff\xfe", " are not UTF-8 text; save the file as UTF-8."),
])
def test_a_broken_named_replies_file_is_one_line(tmp_path: Path, data: bytes,
                                                 message: str) -> None:
    (tmp_path / "alt.yaml").write_bytes(data)
    with pytest.raises(UsageError) as info:
        _replies_dir("alt.yaml", tmp_path, tmp_path / "scratch")
    assert str(info.value).endswith(message)
    assert "\n" not in str(info.value)
