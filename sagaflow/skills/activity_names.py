"""The activity names a skill's code calls, found statically (``ast``, nothing imported).

Workflow code calls activities by name (``workflow.execute_activity("write_artifact",
...)``); a name no worker registers would be retried forever at run time. This
module reads every ``.py`` file of a skill directory and collects the string
given as the activity of ``execute_activity``, ``start_activity``,
``execute_local_activity`` and ``start_local_activity`` calls (first argument or
``activity=``): a string literal, or a name bound to a string constant at module
level in the same file. Activities passed as functions are checked by the SDK
itself and skipped here, as are names computed at run time.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from pathlib import Path

CALLS = frozenset({"execute_activity", "start_activity",
                   "execute_local_activity", "start_local_activity"})


def _constants(tree: ast.Module) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            value = node.value.value
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(value, str):
                    found[target.id] = value
        elif (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
              and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            found[node.target.id] = node.value.value
    return found


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name if name in CALLS else None


def names_in_source(source: str, filename: str = "<skill>") -> dict[str, int]:
    """Activity name -> first line calling it, in one module's source.

    Raises:
        SyntaxError: the source does not parse.
    """
    tree = ast.parse(source, filename)
    constants = _constants(tree)
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _called_name(node) is None:
            continue
        arg = node.args[0] if node.args else next(
            (k.value for k in node.keywords if k.arg == "activity"), None)
        name = None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            name = arg.value
        elif isinstance(arg, ast.Name):
            name = constants.get(arg.id)
        if name is not None:
            found.setdefault(name, node.lineno)
    return found


def called_activities(skill_dir: Path) -> dict[str, tuple[str, int]]:
    """Activity name -> (file, line) of its first call, over the skill's ``.py`` files.

    Files that do not parse are skipped (the import reports them).
    """
    found: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(skill_dir):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(f for f in filenames if f.endswith(".py")):
            path = Path(dirpath, name)
            try:
                calls = names_in_source(path.read_text(encoding="utf-8"), str(path))
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for activity, line in calls.items():
                found.setdefault(activity, (str(path.relative_to(skill_dir)), line))
    return found


def close_matches(name: str, known: Iterable[str]) -> str:
    """``did you mean 'a', 'b'?`` naming up to three known names like ``name``, or
    ``no close match`` (``spawn_subagnet`` -> ``did you mean 'spawn_subagent'?``)."""
    import difflib  # only when a name is wrong: launch imports this module every time

    near = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    return f"did you mean {', '.join(repr(n) for n in near)}?" if near else "no close match"
