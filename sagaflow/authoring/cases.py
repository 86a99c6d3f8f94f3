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

:mod:`sagaflow.authoring.casefile` reads the files; its errors are :class:`CaseError` lines
naming ``file:line``.
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


def brief(value: Any) -> str:
    """``value`` shown in a message: JSON, cut at 60 characters ("nothing" for None)."""
    return "nothing" if value is None else json.dumps(value, default=str)[:60]


def launch_text(value: Any) -> str:
    """A YAML value as launch text: ``true``/``false`` for booleans, as written otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


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
        found[str(name).replace("-", "_")] = launch_text(value)
    if isinstance(text, list):
        words = [launch_text(w) for w in text]
    elif isinstance(text, str):
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise ValueError(f"text is not shell-style words ({exc})") from None
    elif text is not None:
        raise ValueError(f"text must be words (a string or a list), got {brief(text)}")
    else:
        words = []
    if words:
        found[EXTRA] = json.dumps(words)
    return found


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
                raise ValueError(f"{key} must be text, got {brief(data[key])}")
            fields[key] = launch_text(data[key])
    return Answer(kind=kind, target=fields[kind], by=fields.get("by", DEFAULT_BY),
                  comment=fields.get("comment", ""), reason=fields.get("reason", ""),
                  payload=data.get("payload"), has_payload="payload" in data)


def no_tests_message(skill: str, skill_dir: Path) -> str:
    """What ``sagaflow test`` says about a skill without cases: where and what to add."""
    return (
        f"Skill {skill} has no tests: add a case file such as {skill_dir / TESTS_DIR}/smoke.yaml "
        "holding 'expect: {status: DONE}' (plus 'args: {...}' for its arguments), then run "
        f"'sagaflow test {skill}'."
    )
