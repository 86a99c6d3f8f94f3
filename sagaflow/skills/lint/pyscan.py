"""A skill's Python files as lint sees them: parsed modules, import aliases, and the
functions that run as workflow code.

Nothing is imported: every file is read with ``ast``. *Workflow code* is every
method of a ``@workflow.defn`` class, plus, transitively, every function or class
of the skill's own modules those methods reference (called, or passed along as
``saga.add(_write, ...)`` does); functions decorated with ``@activity.defn`` are
activities, not workflow code, and are never followed.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sagaflow.skills.lint.findings import Finding, error

#: how a skill-local module's qualified names start (``<skill>.helpers.fetch``)
LOCAL = "<skill>"
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
ACTIVITY_CALLS = frozenset({"execute_activity", "start_activity",
                            "execute_local_activity", "start_local_activity"})


@dataclass
class Module:
    """One parsed ``.py`` file of a skill.

    Attributes:
        rel: Path relative to the skill directory (``workflow.py``).
        dotted: Its module name inside the skill package (``workflow``; ``""`` for
            ``__init__.py``).
        tree: The parsed source.
        aliases: Local name -> qualified name of what it was imported as
            (``dt`` -> ``datetime.datetime``; skill modules start with :data:`LOCAL`).
        functions: Module-level functions by name.
        classes: Module-level classes by name.
    """

    rel: str
    dotted: str
    tree: ast.Module
    aliases: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionNode] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)


def _dotted(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(skill_dir: Path) -> Iterator[Path]:
    """The skill's ``.py`` files, sorted (``__pycache__`` and hidden directories skipped)."""
    for dirpath, dirnames, filenames in os.walk(skill_dir):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(f for f in filenames if f.endswith(".py")):
            yield Path(dirpath, name)


def parse_skill(skill_dir: Path, package: str) -> tuple[list[Module], list[Finding]]:
    """Every ``.py`` file of ``skill_dir`` parsed; files that do not parse become
    ``syntax`` errors.

    Args:
        package: The skill's import name (``skills.hello_world``): absolute imports of
            it count as the skill's own modules.
    """
    modules, findings = [], []
    for path in python_files(skill_dir):
        rel = path.relative_to(skill_dir)
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, str(path))
        except SyntaxError as exc:
            findings.append(error(str(rel), exc.lineno or 1,
                                  f"this file does not parse ({exc.msg}); fix the syntax", "syntax"))
            continue
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            findings.append(error(str(rel), 1, f"this file cannot be read ({exc}); fix its "
                                  "permissions or encoding.", "syntax"))
            continue
        module = Module(str(rel), _dotted(rel), tree)
        _index(module, package)
        modules.append(module)
    return modules, findings


def _index(module: Module, package: str) -> None:
    for statement in module.tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            module.functions[statement.name] = statement
        elif isinstance(statement, ast.ClassDef):
            module.classes[statement.name] = statement
    is_package = module.rel.endswith("__init__.py")
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _local_absolute(alias.name, package)
                if alias.asname:
                    module.aliases[alias.asname] = target
                else:
                    head = alias.name.split(".")[0]
                    module.aliases[head] = _local_absolute(head, package)
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(module.dotted, is_package, node, package)
            for alias in node.names:
                if alias.name != "*":
                    module.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"


def _local_absolute(name: str, package: str) -> str:
    if name == package or name.startswith(f"{package}."):
        return LOCAL + name[len(package):]
    return name


def _from_base(dotted: str, is_package: bool, node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return _local_absolute(node.module or "", package)
    parts = dotted.split(".") if dotted else []
    if not is_package and parts:
        parts.pop()
    if node.level > 1:
        parts = parts[: max(len(parts) - (node.level - 1), 0)]
    return ".".join([LOCAL, *parts, *([node.module] if node.module else [])])


def qualname(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The qualified name an expression refers to: ``dt.now`` -> ``datetime.datetime.now``;
    a call inside the chain reads ``()`` (``Path(p).read_text`` -> ``pathlib.Path().read_text``).
    None for anything else (subscripts, literals...)."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append("()")
            node = node.func
        else:
            break
    if not isinstance(node, ast.Name):
        return None
    text = aliases.get(node.id, node.id)
    for part in reversed(parts):
        text = f"{text}{part}" if part == "()" else f"{text}.{part}"
    return text


def calls(modules: list[Module]) -> Iterator[tuple[Module, ast.Call, str]]:
    """Every call in ``modules`` with the module it is in and the qualified name of what it
    calls (:func:`qualname`; "" when it has none)."""
    for module in modules:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call):
                yield module, node, qualname(node.func, module.aliases) or ""


def _decorated(node: FunctionNode | ast.ClassDef, aliases: dict[str, str], suffix: str) -> bool:
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = qualname(target, aliases) or ""
        if name == suffix or name.endswith(f".{suffix}"):
            return True
    return False


def is_workflow_class(node: ast.ClassDef, aliases: dict[str, str]) -> bool:
    return _decorated(node, aliases, "workflow.defn")


def is_activity(node: FunctionNode, aliases: dict[str, str]) -> bool:
    return _decorated(node, aliases, "activity.defn")


def workflow_modules(modules: list[Module]) -> list[Module]:
    """The modules that define a ``@workflow.defn`` class."""
    return [m for m in modules if any(is_workflow_class(c, m.aliases) for c in m.classes.values())]


def _activity_arguments(node: ast.AST) -> set[int]:
    """ids of the expressions passed as the activity of ``execute_activity``-like calls."""
    found = set()
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ACTIVITY_CALLS and call.args:
            found.add(id(call.args[0]))
    return found


def workflow_code(modules: list[Module]) -> list[tuple[Module, ast.AST]]:
    """Every function (methods of referenced classes included) whose code runs as
    workflow code, with its module, in the order found."""
    by_dotted = {m.dotted: m for m in modules}
    todo: list[tuple[Module, ast.AST]] = []
    seen: set[int] = set()

    def reach(module: Module, node: ast.AST) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, ast.ClassDef):  # its methods, one by one: some may be activities
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    reach(module, item)
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and is_activity(node, module.aliases):
            return
        todo.append((module, node))

    for module in modules:
        for cls in module.classes.values():
            if is_workflow_class(cls, module.aliases):
                reach(module, cls)
    done: list[tuple[Module, ast.AST]] = []
    while todo:
        module, node = todo.pop(0)
        done.append((module, node))
        skip = _activity_arguments(node)
        for ref in ast.walk(node):
            if id(ref) in skip:
                continue
            target = _resolve(ref, module, by_dotted)
            if target is not None:
                reach(*target)
    return done


def _resolve(ref: ast.AST, module: Module,
             by_dotted: dict[str, Module]) -> tuple[Module, ast.AST] | None:
    """The skill-local function or class a name (or ``helpers.fn`` attribute) refers to."""
    if isinstance(ref, ast.Name) and isinstance(ref.ctx, ast.Load):
        if ref.id in module.functions:
            return module, module.functions[ref.id]
        if ref.id in module.classes:
            return module, module.classes[ref.id]
        qualified = module.aliases.get(ref.id)
    elif isinstance(ref, ast.Attribute) and isinstance(ref.value, ast.Name):
        base = module.aliases.get(ref.value.id)
        qualified = f"{base}.{ref.attr}" if base else None
    else:
        return None
    if qualified is None or not qualified.startswith(f"{LOCAL}."):
        return None
    owner, _, name = qualified[len(LOCAL) + 1:].rpartition(".")
    target = by_dotted.get(owner)
    if target is None:
        return None
    node = target.functions.get(name) or target.classes.get(name)
    return (target, node) if node is not None else None
