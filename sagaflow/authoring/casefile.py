"""Reading case files: YAML composed with line numbers, checked key by key.

:func:`load_case` reads one ``<skill>/tests/NAME.yaml`` (the format is in
:mod:`sagaflow.authoring.cases`); every problem is one :class:`CaseError` line naming
``file:line`` and, for a misspelt key, the key it meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sagaflow.authoring.cases import (
    ANSWER_KEYS,
    CASE_KEYS,
    DEFAULT_TIMEOUT,
    EXPECT_KEYS,
    INBOX_KEYS,
    TESTS_DIR,
    Answer,
    Case,
    CaseError,
    Expect,
    brief,
    case_files,
    launch_args,
    launch_text,
    parse_answer,
)
from sagaflow.errors import UsageError


class _Reader:
    """Builds a :class:`Case` from a composed YAML document, keeping each node's line."""

    def __init__(self, path: Path, text: str) -> None:
        import yaml

        self.path = path
        self.loader = yaml.SafeLoader(text)

    def fail(self, node: Any, why: str) -> CaseError:
        line = node.start_mark.line + 1 if node is not None else 1
        return CaseError(f"{self.path}:{line}: {why}")

    def value(self, node: Any) -> Any:
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: Any, allowed: tuple[str, ...] | None, where: str) -> dict[str, Any]:
        """Key -> value node of a mapping node; a key not ``allowed`` (None: any) is refused
        with the known ones."""
        import yaml

        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping (key: value lines).")
        found: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(self.value(key_node))
            if allowed is not None and key not in allowed:
                import difflib

                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise self.fail(key_node, f"unknown key {key!r} in {where}{hint}; "
                                          f"use {', '.join(allowed)}.")
            found[key] = value_node
        return found

    def text(self, node: Any, where: str) -> str:
        value = self.value(node)
        if isinstance(value, dict | list) or value is None:
            raise self.fail(node, f"{where} must be text, got {brief(value)}.")
        return launch_text(value)


def load_case(path: Path) -> Case:
    """Read one case file.

    Raises:
        CaseError: Unreadable, not YAML, or not the case format (``file:line: why``).
    """
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseError(f"{path}:1: cannot read it ({exc.strerror}).") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise CaseError(f"{path}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); "
                        "save it as UTF-8.") from None
    reader = _Reader(path, text)
    try:
        root = reader.loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise CaseError(f"{path}:{line}: not valid YAML ({exc.problem or exc.context}).") from None
    if root is None:
        raise CaseError(f"{path}:1: the case is empty; write at least 'expect: {{status: DONE}}'.")
    keys = reader.mapping(root, CASE_KEYS, "a case")
    args = _args(reader, keys)
    return Case(
        name=path.stem, path=path, args=args, replies=_replies(reader, keys.get("replies")),
        answers=_answers(reader, keys.get("answers")), expect=_expect(reader, keys.get("expect")),
        timeout=_timeout(reader, keys.get("timeout")),
    )


def _args(reader: _Reader, keys: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    if "args" in keys and reader.value(keys["args"]) is not None:
        for name, node in reader.mapping(keys["args"], None, "args").items():
            try:
                found.update(launch_args({name: reader.value(node)}))
            except ValueError as exc:
                raise reader.fail(node, f"{exc}.") from None
    if "text" in keys:
        try:
            found.update(launch_args(None, reader.value(keys["text"])))
        except ValueError as exc:
            raise reader.fail(keys["text"], f"{exc}.") from None
    return found


def _replies(reader: _Reader, node: Any) -> Path | dict[str, Any] | None:
    if node is None:
        return None
    value = reader.value(node)
    if value is None:
        return None
    if isinstance(value, str):
        skill_dir = reader.path.parent.parent  # <skill>/tests/NAME.yaml
        if reader.path.parent.name == TESTS_DIR and not (skill_dir / value).is_file():
            what = "is not a file" if (skill_dir / value).exists() else "does not exist"
            raise reader.fail(node, f"replies file {value!r} {what} in {skill_dir}; "
                                    "name a file relative to the skill directory.")
        return Path(value)
    if isinstance(value, list):
        if not all(isinstance(rule, dict) for rule in value):
            raise reader.fail(node, "replies must be a list of {match, reply} rules.")
        return {"replies": value}
    if isinstance(value, dict) and isinstance(value.get("replies", value.get("turns")), list):
        return value
    raise reader.fail(node, "replies must be a file name (relative to the skill), a list of "
                            "{match, reply} rules, or a mapping holding replies: or turns:.")


def _answers(reader: _Reader, node: Any) -> list[Answer]:
    import dataclasses

    import yaml

    if node is None or reader.value(node) is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise reader.fail(node, "answers must be a list, e.g. - {approve: STEP}.")
    allowed = tuple(dict.fromkeys(k for kind, more in ANSWER_KEYS.items() for k in (kind, *more)))
    answers = []
    for item in node.value:
        keys = reader.mapping(item, allowed, "an answer")  # an unknown key: its own line
        try:
            answer = parse_answer({k: reader.value(v) for k, v in keys.items()})
        except ValueError as exc:
            raise reader.fail(item, f"{exc}.") from None
        answers.append(dataclasses.replace(answer, line=item.start_mark.line + 1))
    return answers


def _expect(reader: _Reader, node: Any) -> Expect:
    if node is None or reader.value(node) is None:
        return Expect()
    keys = reader.mapping(node, EXPECT_KEYS, "expect")
    found: dict[str, Any] = {}
    for key in ("status", "result_contains", "error_contains"):
        if key in keys:
            found[key] = reader.text(keys[key], f"expect.{key}")
    if "result" in keys:
        found["result"], found["has_result"] = reader.value(keys["result"]), True
    if "inbox" in keys:
        inbox = reader.mapping(keys["inbox"], INBOX_KEYS, "expect.inbox")
        found["inbox"] = {k: reader.text(v, f"expect.inbox.{k}") for k, v in inbox.items()}
    if "steps" in keys:
        steps = reader.value(keys["steps"])
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            raise reader.fail(keys["steps"], "expect.steps must be a list of activity names.")
        found["steps"] = steps
    if "model_calls" in keys:
        calls = reader.value(keys["model_calls"])
        if isinstance(calls, bool) or not isinstance(calls, int) or calls < 0:
            raise reader.fail(keys["model_calls"], "expect.model_calls must be a whole number.")
        found["model_calls"] = calls
    return Expect(**found)


def _timeout(reader: _Reader, node: Any) -> float:
    if node is None:
        return DEFAULT_TIMEOUT
    value = reader.value(node)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise reader.fail(node, f"timeout must be seconds above 0, got {brief(value)}.")
    return float(value)


def load_cases(skill_dir: Path, only: str | None = None) -> list[Case]:
    """Every case of the skill at ``skill_dir`` (or the one named ``only``).

    Raises:
        CaseError: A case file is malformed.
        UsageError: ``only`` names no case.
    """
    files = case_files(skill_dir)
    if only is not None:
        chosen = [p for p in files if p.stem == only]
        if not chosen:
            names = ", ".join(p.stem for p in files) or "none"
            raise UsageError(f"No case {only!r} in {skill_dir / TESTS_DIR}; its cases: {names}.")
        files = chosen
    return [load_case(p) for p in files]
