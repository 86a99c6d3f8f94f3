"""The ``scripted`` transport: replies from a skill's ``replies.yaml``, no model.

Format::

    replies:
      - match: "Greet (?P<name>.+)"     # regex searched in the user prompt
        reply: |                        # $name / ${name} take named groups
          STRUCTURED_OUTPUT_START
          GREETING|hello, $name
          STRUCTURED_OUTPUT_END

The first matching rule wins; a rule may add ``role:`` to match the system
prompt's text instead (``in: system``).
"""

from __future__ import annotations

import os
import re
import string
from pathlib import Path
from typing import Any

from sagaflow.errors import ModelError
from sagaflow.models import REPLIES_FILE, ModelReply

#: parsed replies by file name, with the (mtime_ns, size) they were parsed at (and the
#: file's Path): a fan-out of a hundred scripted calls parsed the same YAML a hundred times
#: (about 0.5 ms of worker CPU each); an edited file has a new stat and is parsed again
_PARSED: dict[str, tuple[tuple[int, int], Path, Any]] = {}


def read_replies(skill_dir: Path | None) -> tuple[Path, Any]:
    """The skill's ``replies.yaml``: its path and parsed YAML (``{}`` when empty).

    Each caller gets its own copy (callers may change what they get).

    Raises:
        ModelError: No skill directory, or the file is unreadable or not YAML (not retryable).
    """
    import copy

    path, data = _parsed(skill_dir)
    return path, copy.deepcopy(data)


def _parsed(skill_dir: Path | None) -> tuple[Path, Any]:
    """:func:`read_replies` without the copy: the cached object itself, for callers that
    only read it (a copy per call was a fifth of a scripted call's CPU)."""
    import yaml

    if skill_dir is None:
        raise ModelError("Scripted replies need the skill's directory.", retryable=False)
    # the cache is keyed by the file name as a string: hashing a new Path per call (and
    # joining one) cost more than the stat
    name = os.path.join(skill_dir, REPLIES_FILE)
    try:
        stat = os.stat(name)
        seen = (stat.st_mtime_ns, stat.st_size)
        cached = _PARSED.get(name)
        if cached is None or cached[0] != seen:
            text = Path(name).read_text(encoding="utf-8")
            cached = _PARSED[name] = seen, Path(name), yaml.safe_load(text) or {}
        return cached[1], cached[2]
    except FileNotFoundError:
        raise ModelError(
            f"{Path(name)} does not exist; create it with a 'replies:' list of {{match, reply}} "
            "rules (a skill made by 'sagaflow new' has one to copy).", retryable=False) from None
    except OSError as exc:
        raise ModelError(f"Cannot read scripted replies {Path(name)}: {exc.strerror}.",
                         retryable=False) from None
    except yaml.YAMLError as exc:
        raise ModelError(yaml_problem(Path(name), exc), retryable=False) from None


def yaml_problem(path: Path, exc: Exception) -> str:
    """One line for a YAML error in ``path``: ``path:line: not valid YAML (why); fix it.``
    (PyYAML's own message spans several lines, with a caret drawing)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    why = getattr(exc, "problem", None) or getattr(exc, "context", None) or "unreadable"
    return f"{path}{line}: not valid YAML ({' '.join(str(why).split())}); fix it."


def bad_regex(pattern: str, exc: re.error) -> ModelError:
    """The error for a rule whose ``match`` is not a regex, naming the pattern."""
    return ModelError(f"Bad regex {pattern!r:.80} in {REPLIES_FILE}: {exc}; fix that rule's "
                      "match (escape ( ) [ ] ? * + with a backslash to match them literally).",
                      retryable=False)


def _rules(skill_dir: Path | None) -> list[dict[str, Any]]:
    path, data = _parsed(skill_dir)  # read only: call() never changes a rule
    rules = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        raise ModelError(f"{path} must hold a 'replies:' list.", retryable=False)
    return [r for r in rules if isinstance(r, dict)]


def call(*, skill_dir: Path | None, model: str, system: str, user: str) -> ModelReply:
    """Answer from the first rule whose ``match`` regex is found in the prompt."""
    for rule in _rules(skill_dir):
        haystack = system if rule.get("in") == "system" else user
        pattern = str(rule.get("match", ""))
        try:
            match = re.search(pattern, haystack)
        except re.error as exc:
            raise bad_regex(pattern, exc) from None
        if match:
            groups = {k: v.strip() for k, v in match.groupdict().items() if v is not None}
            text = string.Template(str(rule.get("reply", ""))).safe_substitute(groups)
            return ModelReply(text=text, model="scripted", transport="scripted", usage={},
                              stop_reason="end_turn")
    first = user.strip().splitlines()[0][:80] if user.strip() else ""
    raise ModelError(
        f"No scripted reply in {REPLIES_FILE} matches the prompt {first!r}; add a rule.",
        retryable=False,
    )
