"""A launch's skill arguments: parsing the command line, and what ``build_input`` sees.

``--arg key=value`` and ``--key value`` options become ``{key: value}`` text; free words
become :data:`EXTRA` (a JSON list in the run's record, a ``list[str]`` for the skill).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sagaflow.errors import SkillArgumentError


def parse_skill_args(pairs: list[str], extra: list[str]) -> dict[str, str]:
    """``--arg k=v`` values plus free ``--key value`` / ``--key=value`` options, and
    free text.

    Keys have ``-`` turned into ``_``. Every skill argument takes a value (skill
    arguments are text, parsed before the skill is loaded): a bare ``--key`` is
    refused (a yes/no switch is written ``--key true``), and so is a key given twice
    in any spelling (``--name a --arg name=b``), rather than silently keeping one.
    Words that are not options (and every word after ``--``) are the launch's free
    text: kept in order under :data:`EXTRA` as a JSON list (the skill's ``build_input``
    receives ``cli_args["_extra"]`` as a ``list[str]``, as in sagaflow 0.10).

    Raises:
        SkillArgumentError: A malformed pair, a single-dash option, a bare ``--key``
            or a repeated key (one sentence naming it).
    """
    args: dict[str, str] = {}
    spelled: dict[str, str] = {}

    def put(key: str, value: str, spelling: str) -> None:
        if key in args:
            raise SkillArgumentError(
                f"Skill argument {key.replace('_', '-')} is given twice ({spelled[key]} and "
                f"{spelling}); give it once."
            )
        args[key], spelled[key] = value, spelling

    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SkillArgumentError(
                f"Malformed --arg {pair!r}; write it as --arg key=value."
            )
        put(key.strip().replace("-", "_"), value, f"--arg {pair}")
    words: list[str] = []
    i = 0
    while i < len(extra):
        token = extra[i]
        if token == "--":
            words.extend(extra[i + 1:])
            break
        if token.startswith("-") and not token.startswith("--") and len(token) > 1:
            raise SkillArgumentError(
                f"Unexpected argument {token!r}; skill arguments look like --key value "
                "or --arg key=value (free text after -- is taken as it is)."
            )
        if not token.startswith("--"):
            words.append(token)
            i += 1
            continue
        key, sep, value = token[2:].partition("=")
        if not key:
            raise SkillArgumentError(f"Malformed option {token!r}; write --key value.")
        if not sep:
            nxt = extra[i + 1] if i + 1 < len(extra) else None
            if nxt is None or nxt.startswith("--"):
                raise SkillArgumentError(
                    f"Skill option {token} has no value; give it a value: {token} VALUE "
                    f"(a yes/no switch is {token} true)."
                )
            value = nxt
            i += 1
        put(key.replace("-", "_"), value, f"--{key} {value}")
        i += 1
    if words:
        put(EXTRA, json.dumps(words), "free text")
    return args


#: the key of the launch's free text in a run's arguments (a JSON list of words)
EXTRA = "_extra"


def skill_view(args: Mapping[str, str]) -> dict[str, Any]:
    """The arguments as ``build_input`` receives them: :data:`EXTRA` as a ``list[str]``."""
    view: dict[str, Any] = dict(args)
    if EXTRA in view:
        try:
            words = json.loads(view[EXTRA])
        except ValueError:
            words = None
        view[EXTRA] = [str(w) for w in words] if isinstance(words, list) else [str(view[EXTRA])]
    return view


class TrackingArgs(dict[str, Any]):
    """A dict that remembers which keys ``build_input`` asked for."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.asked: set[str] = set()
        self.missing: set[str] = set()
        self.took_all = False

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override,unused-ignore]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        if not super().__contains__(key):
            self.missing.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self.took_all = True
        return super().__iter__()

    def items(self) -> Any:
        self.took_all = True
        return super().items()

    def keys(self) -> Any:
        self.took_all = True
        return super().keys()
