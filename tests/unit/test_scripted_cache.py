"""replies.yaml is parsed once per version of the file, and each caller gets its own copy."""

from __future__ import annotations

import os
from pathlib import Path

from sagaflow.models.scripted import call, read_replies


def test_an_edited_file_is_read_again_and_copies_are_independent(tmp_path: Path) -> None:
    replies = tmp_path / "replies.yaml"
    replies.write_text("replies:\n  - {match: a, reply: one}\n")
    _, first = read_replies(tmp_path)
    first["replies"].clear()  # a caller changing its copy changes no one else's
    _, again = read_replies(tmp_path)
    assert again == {"replies": [{"match": "a", "reply": "one"}]}
    replies.write_text("replies:\n  - {match: a, reply: two!}\n")
    stat = replies.stat()
    os.utime(replies, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert read_replies(tmp_path)[1] == {"replies": [{"match": "a", "reply": "two!"}]}


def test_calls_share_the_parsed_rules_and_see_an_edit(tmp_path: Path) -> None:
    """call() reads the cached rules without copying them: it must neither change them
    nor miss an edited file."""
    replies = tmp_path / "replies.yaml"
    replies.write_text("replies:\n  - {match: 'Greet (?P<name>[A-Za-z]+)', reply: 'hi $name'}\n")
    ask = {"skill_dir": tmp_path, "model": "m", "system": ""}
    assert call(user="Greet Ann", **ask).text == "hi Ann"
    assert call(user="Greet Bob", **ask).text == "hi Bob"
    assert read_replies(tmp_path)[1] == {
        "replies": [{"match": "Greet (?P<name>[A-Za-z]+)", "reply": "hi $name"}]}
    replies.write_text("replies:\n  - {match: Greet, reply: changed}\n")
    stat = replies.stat()
    os.utime(replies, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert call(user="Greet Ann", **ask).text == "changed"
