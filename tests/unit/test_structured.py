"""Tests for sagaflow.models.structured (the STRUCTURED_OUTPUT block parser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagaflow.models.structured import END, START, last_block, parse_structured


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "sagaflow"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))


def block(*lines: str) -> str:
    return "\n".join([START, *lines, END])


def test_simple_block() -> None:
    text = "Some chatter first.\n" + block("GREETING|hello, alice", "SCORE|7") + "\nbye"
    assert parse_structured(text) == {"GREETING": "hello, alice", "SCORE": "7"}


def test_last_block_wins() -> None:
    text = (
        "I will answer in this format:\n"
        + block("GREETING|<your greeting>", "EXTRA|template only")
        + "\nHere is the real answer:\n"
        + block("GREETING|hi bob")
    )
    # Only the last block counts; keys of earlier blocks do not leak in.
    assert parse_structured(text) == {"GREETING": "hi bob"}


def test_continuation_lines_append_to_previous_value() -> None:
    text = block(
        "SUMMARY|first line",
        "second line",
        "   indented third line   ",
        "NEXT|x",
    )
    result = parse_structured(text)
    assert result == {
        "SUMMARY": "first line\nsecond line\n   indented third line",
        "NEXT": "x",
    }


def test_continuation_after_empty_first_value() -> None:
    text = block("BODY|", "line one", "line two")
    assert parse_structured(text) == {"BODY": "line one\nline two"}


def test_lines_before_first_key_are_ignored() -> None:
    text = block("preamble text without a key", "* bullet", "KEY|value", "more")
    assert parse_structured(text) == {"KEY": "value\nmore"}


def test_no_block_gives_empty_dict() -> None:
    assert parse_structured("") == {}
    assert parse_structured("KEY|value\nno markers at all") == {}


def test_unterminated_block_gives_empty_dict() -> None:
    assert parse_structured(f"{START}\nKEY|value\nOTHER|x\n") == {}
    assert last_block(f"{START}\nKEY|value") is None


def test_end_without_start_gives_empty_dict() -> None:
    assert parse_structured(f"KEY|value\n{END}") == {}


def test_trailing_unterminated_block_falls_back_to_last_complete_one() -> None:
    text = block("KEY|complete") + f"\n{START}\nKEY|cut off mid-answ"
    assert parse_structured(text) == {"KEY": "complete"}


def test_keys_with_dash_underscore_and_digits() -> None:
    text = block("my-key|a", "other_key|b", "_private|c", "K2-x_y|d", "  SPACED  |e")
    assert parse_structured(text) == {
        "my-key": "a",
        "other_key": "b",
        "_private": "c",
        "K2-x_y": "d",
        "SPACED": "e",
    }


def test_line_starting_with_digit_is_not_a_key() -> None:
    text = block("LIST|items:", "1|first", "2|second")
    assert parse_structured(text) == {"LIST": "items:\n1|first\n2|second"}


def test_values_may_contain_pipes() -> None:
    text = block("CMD|grep a | sort | uniq -c", "TABLE|| x | y |")
    assert parse_structured(text) == {"CMD": "grep a | sort | uniq -c", "TABLE": "| x | y |"}


def test_prose_line_with_pipe_continues_value() -> None:
    # "see a" is not a key (contains a space before the pipe), so it continues.
    text = block("NOTE|start", "see a|b for details")
    assert parse_structured(text) == {"NOTE": "start\nsee a|b for details"}


def test_values_are_stripped() -> None:
    assert parse_structured(block("KEY|   padded value   ")) == {"KEY": "padded value"}


def test_repeated_key_last_occurrence_wins() -> None:
    assert parse_structured(block("KEY|one", "KEY|two")) == {"KEY": "two"}


def test_block_on_a_single_line() -> None:
    text = f"answer: {START} KEY|inline value {END} trailing"
    assert parse_structured(text) == {"KEY": "inline value"}


def test_first_and_last_fields_share_lines_with_markers() -> None:
    text = f"prefix {START} A|1\nB|2 {END} suffix"
    assert parse_structured(text) == {"A": "1", "B": "2"}


def test_marker_lines_with_surrounding_text() -> None:
    text = f"Output follows: {START}\nKEY|v\n{END} (done)"
    assert parse_structured(text) == {"KEY": "v"}


def test_last_block_returns_body() -> None:
    assert last_block(f"x{START}BODY{END}y") == "BODY"
    assert last_block(f"{START}a{END}{START}b{END}") == "b"


def test_blank_lines_inside_a_value_are_kept() -> None:
    text = "STRUCTURED_OUTPUT_START\nBODY|para one\n\npara two\n\nNEXT|x\nSTRUCTURED_OUTPUT_END"
    assert parse_structured(text) == {"BODY": "para one\n\npara two", "NEXT": "x"}
