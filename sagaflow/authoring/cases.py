"""A skill's offline test cases: ``<skill>/tests/*.yaml``, one case per file.

Format (every key optional; the file's name without ``.yaml`` is the case's name)::

    args: {name: alice}            # what `sagaflow launch SKILL --name alice` passes
    text: "cats and dogs"          # free words after the skill name ($ARGUMENTS), or a list
    replies: replies.yaml          # a file relative to the skill dir (default: its replies.yaml),
                                   # an inline list of {match, reply} rules, or a mapping
                                   # holding replies:/turns: as a replies.yaml would
    answers:                       # applied in order, each when the run waits on it
      - {approve: book, by: tester, comment: ok}
      - {reject: publish, reason: too expensive}
      - {signal: manager_approval, payload: {ok: true}}
    timeout: 60                    # seconds of real time the case may take
    expect:
      status: DONE                 # the run's inbox status (DONE, FAILED, CANCELLED, ...)
      result: "hello, alice"       # JSON-equal to the run's result
      result_contains: alice       # substring of the result as text (JSON unless a string)
      error_contains: rejected     # substring of the failure reason of a failed run
      inbox: {status: DONE, summary_contains: hello}   # also summary: (exact)
      steps: [spawn_subagent, emit_finding]   # activity names in order, a subsequence
      model_calls: 1               # model replies given (steps and agent turns, every run)

Errors are :class:`CaseError` lines naming ``file:line``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagaflow.errors import UsageError

TESTS_DIR = "tests"
SUFFIXES = (".yaml", ".yml")
DEFAULT_TIMEOUT = 60.0
CASE_KEYS = ("args", "text", "replies", "answers", "timeout", "expect", "description")
EXPECT_KEYS = ("status", "result", "result_contains", "error_contains", "inbox", "steps",
               "model_calls")
INBOX_KEYS = ("status", "summary", "summary_contains")
#: per answer kind: the keys it may carry besides its own
ANSWER_KEYS = {
    "approve": ("by", "comment"),
    "reject": ("by", "reason", "comment"),
    "signal": ("payload",),
}
DEFAULT_BY = "tester"


class CaseError(UsageError):
    """A case file is not valid YAML or breaks the case format (``file:line: why``)."""


@dataclass(frozen=True)
class Answer:
    """One answer a case gives when the run waits.

    Attributes:
        kind: ``approve``, ``reject`` or ``signal``.
        target: The gate's step name, or the signal's name.
        by, comment, reason: A decision's fields (approve/reject).
        payload: A signal's payload (``has_payload`` False: sent without one).
        line: Where the answer is written (1-based).
    """

    kind: str
    target: str
    by: str = DEFAULT_BY
    comment: str = ""
    reason: str = ""
    payload: Any = None
    has_payload: bool = False
    line: int = 0

    def describe(self) -> str:
        """``approve book`` / ``signal go``."""
        return f"{self.kind} {self.target}"


@dataclass(frozen=True)
class Expect:
    """What a case expects; None (or empty) means "not checked"."""

    status: str | None = None
    result: Any = None
    has_result: bool = False
    result_contains: str | None = None
    error_contains: str | None = None
    inbox: dict[str, str] = field(default_factory=dict)
    steps: list[str] | None = None
    model_calls: int | None = None


@dataclass(frozen=True)
class Case:
    """One test case of a skill.

    Attributes:
        name: The file's stem (``greets-alice``).
        path: The case file.
        args: The launch's ``--key value`` arguments, as text (``_extra``: free words).
        replies: None (the skill's own replies.yaml), a replies file, or inline data
            (a ``{"replies": [...]}`` / ``{"turns": [...]}`` mapping).
    """

    name: str
    path: Path
    args: dict[str, str] = field(default_factory=dict)
    replies: Path | dict[str, Any] | None = None
    answers: list[Answer] = field(default_factory=list)
    expect: Expect = field(default_factory=Expect)
    timeout: float = DEFAULT_TIMEOUT


def case_files(skill_dir: Path) -> list[Path]:
    """The skill's case files (``tests/*.yaml`` and ``*.yml``), by name."""
    folder = skill_dir / TESTS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES)


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
            raise self.fail(node, f"{where} must be text, got {_shown(value)}.")
        return _as_text(value)


def _shown(value: Any) -> str:
    return "nothing" if value is None else json.dumps(value, default=str)[:60]


def _as_text(value: Any) -> str:
    """A YAML scalar as launch text: ``true``/``false`` for booleans, as written otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


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


def launch_args(args: dict[str, Any] | None, text: str | list[Any] | None = None) -> dict[str, str]:
    """A case's ``args`` and ``text`` as launch arguments (``{key: text}``, free words under
    ``_extra``): YAML scalars become launch text (``true``/``false``), ``-`` in a key ``_``.

    Raises:
        ValueError: A value missing, or ``text`` that is not words (the reason, one phrase).
    """
    from sagaflow.skills.args import EXTRA

    found: dict[str, str] = {}
    for name, value in (args or {}).items():
        if value is None:
            raise ValueError(f"args.{name} has no value; give one (a yes/no switch is written true)")
        found[str(name).replace("-", "_")] = _as_text(value)
    if isinstance(text, list):
        words = [_as_text(w) for w in text]
    elif isinstance(text, str):
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise ValueError(f"text is not shell-style words ({exc})") from None
    elif text is not None:
        raise ValueError(f"text must be words (a string or a list), got {_shown(text)}")
    else:
        words = []
    if words:
        found[EXTRA] = json.dumps(words)
    return found


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
        return Path(value)
    if isinstance(value, list):
        if not all(isinstance(rule, dict) for rule in value):
            raise reader.fail(node, "replies must be a list of {match, reply} rules.")
        return {"replies": value}
    if isinstance(value, dict) and isinstance(value.get("replies", value.get("turns")), list):
        return value
    raise reader.fail(node, "replies must be a file name (relative to the skill), a list of "
                            "{match, reply} rules, or a mapping holding replies: or turns:.")


def parse_answer(data: dict[str, Any]) -> Answer:
    """One answer from its mapping (``{approve: STEP, by: NAME}``...).

    Raises:
        ValueError: Not exactly one of approve/reject/signal, a key that kind does not
            take, or a non-text field (the reason, one phrase).
    """
    chosen = [k for k in ANSWER_KEYS if k in data]
    if len(chosen) != 1:
        raise ValueError(f"an answer holds exactly one of {', '.join(ANSWER_KEYS)}")
    kind = chosen[0]
    extra = sorted(set(data) - {kind, *ANSWER_KEYS[kind]})
    if extra:
        raise ValueError(f"{kind} answers take {', '.join(ANSWER_KEYS[kind])}, not {extra[0]!r}")
    fields: dict[str, str] = {}
    for key in (kind, "by", "comment", "reason"):
        if key in data:
            if data[key] is None or isinstance(data[key], dict | list):
                raise ValueError(f"{key} must be text, got {_shown(data[key])}")
            fields[key] = _as_text(data[key])
    return Answer(kind=kind, target=fields[kind], by=fields.get("by", DEFAULT_BY),
                  comment=fields.get("comment", ""), reason=fields.get("reason", ""),
                  payload=data.get("payload"), has_payload="payload" in data)


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
        raise reader.fail(node, f"timeout must be seconds above 0, got {_shown(value)}.")
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


def no_tests_message(skill: str, skill_dir: Path) -> str:
    """What ``sagaflow test`` says about a skill without cases: where and what to add."""
    return (
        f"Skill {skill} has no tests: add a case file such as {skill_dir / TESTS_DIR}/smoke.yaml "
        "holding 'expect: {status: DONE}' (plus 'args: {...}' for its arguments), then run "
        f"'sagaflow test {skill}'."
    )
