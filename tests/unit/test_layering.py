"""The package's layering, read from the source with ``ast`` (nothing is imported).

Rule (top to bottom; a unit imports only from units below it or beside it, never
above, and units never import each other in a cycle)::

    cli → testing → authoring → runs → {workflow, durable, registry, prompts} → _engine
        → skills → agent
        → agent.tools → models → base

A unit is a subpackage (``sagaflow/cli/``...) or a top-level module
(``sagaflow/inbox.py``...), except that ``sagaflow/agent/`` holds two: ``agent.tools``
(the tools, the permission rules and where they come from: ``agent/tools/``,
``agent/permissions.py``, ``agent/permission_sources.py``, ``agent/shellwords.py``), which the plugin in
``_engine`` registers and skill discovery may check ``allowed-tools`` against, and
``agent`` (the rest: the agent loop). Every import counts: module level, inside functions
and under ``if TYPE_CHECKING``. ``sagaflow/__init__.py`` (lazy ``__getattr__``)
and ``sagaflow/__main__.py`` are entry points and exempt.

The hook and the inbox are imported on every Claude Code session start: they,
and everything they pull in, must not import temporalio, anthropic, rich or a
model transport.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "sagaflow"

#: unit -> layer (higher may import lower)
LAYERS: dict[str, float] = {
    "cli": 6,
    "testing": 5.8,  # the pytest plugin over authoring's offline runner
    "authoring": 5.5,  # new/test: scaffolds, case files, the offline runner (uses runs)
    "runs": 5,
    "workflow": 4, "durable": 4, "registry": 4, "prompts": 4,
    "slack_progress": 4, "temporal_client": 4,  # sagaflow 0.10 paths skills import
    "_engine": 3,
    "skills": 2,
    "agent": 1.5,  # SKILL.md skills: the loop workflow and its activities
    "agent.tools": 1.2,  # the tools and the permission rules
    "models": 1,
    **{base: 0 for base in (
        "inbox", "hook", "config", "paths", "pricing", "runrecord", "durations", "locks", "errors",
        "procs", "ports", "timestamps",  # coming from the platform branch
        "inbox_format", "safetext", "session_context", "wiretypes", "lazy",
        "plugins",  # the plugin interface users import (no temporalio)
    )},
}
ENTRY_POINTS = {"sagaflow", "sagaflow.__main__"}
#: modules of sagaflow/agent/ that form the unit "agent.tools" (their submodules too)
AGENT_TOOLS = ("sagaflow.agent.tools", "sagaflow.agent.permissions",
               "sagaflow.agent.permission_sources", "sagaflow.agent.shellwords")
#: files imported on every session start, and what they must never reach
LIGHT_FILES = (
    "sagaflow/inbox.py", "sagaflow/hook.py", "hooks/session_start.py", "sagaflow/safetext.py",
)
HEAVY_ROOTS = {"temporalio", "anthropic", "rich"}
TRANSPORTS = "sagaflow.models"


def heavy(module: str) -> bool:
    return module.split(".")[0] in HEAVY_ROOTS or f"{module}.".startswith(f"{TRANSPORTS}.")


@dataclass(frozen=True)
class Arrow:
    source: str  # module name
    target: str  # module (or package) name imported
    line: int

    def where(self) -> str:
        return f"{self.source} (line {self.line}) -> {self.target}"


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(path: Path, modules: set[str]) -> list[Arrow]:
    """Every module ``path`` imports (``from pkg import mod`` names ``pkg.mod`` when it is one)."""
    source = module_name(path)
    arrows = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            arrows += [Arrow(source, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(source, path.name == "__init__.py", node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                arrows.append(Arrow(source, full if full in modules else base, node.lineno))
    return arrows


def unit_of(module: str) -> str | None:
    """The unit of a ``sagaflow.*`` module; None outside the package or for an entry point."""
    parts = module.split(".")
    if parts[0] != "sagaflow" or module in ENTRY_POINTS:
        return None
    if any(module == m or module.startswith(f"{m}.") for m in AGENT_TOOLS):
        return "agent.tools"
    return parts[1]


def all_arrows() -> list[Arrow]:
    modules = package_modules()
    names = set(modules)
    return [a for name, path in modules.items() if name not in ENTRY_POINTS
            for a in imports_of(path, names)]


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(m) for m in package_modules()} - {None}
    unplaced = sorted(u for u in units if u not in LAYERS)
    assert not unplaced, (
        f"units with no place in the layering: {unplaced}; add them to LAYERS in {__file__}"
    )


def test_no_arrow_points_up() -> None:
    upward = []
    for arrow in all_arrows():
        src, dst = unit_of(arrow.source), unit_of(arrow.target)
        if src is None or dst is None or src == dst or src not in LAYERS or dst not in LAYERS:
            continue
        if LAYERS[dst] > LAYERS[src]:
            upward.append(f"  {src} -> {dst}: {arrow.where()}")
    assert not upward, "imports pointing up the layers:\n" + "\n".join(sorted(upward))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_cycles_between_units() -> None:
    edges: dict[str, set[str]] = {}
    why: dict[tuple[str, str], Arrow] = {}
    for arrow in all_arrows():
        src, dst = unit_of(arrow.source), unit_of(arrow.target)
        if src is None or dst is None or src == dst:
            continue
        edges.setdefault(src, set()).add(dst)
        why.setdefault((src, dst), arrow)
    report = []
    for component in _cycles(edges):
        report.append(f"  cycle between {', '.join(component)}:")
        report += [
            f"    {why[(a, b)].where()}"
            for a in component for b in component if (a, b) in why
        ]
    assert not report, "import cycles between units:\n" + "\n".join(report)


def test_cycle_finder_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("light", LIGHT_FILES)
def test_light_files_never_reach_heavy_imports(light: str) -> None:
    """Follow every import (function-level too) through sagaflow's modules from ``light``."""
    modules = package_modules()
    names = set(modules)
    start = REPO / light
    chains: dict[str, list[str]] = {module_name(start): [module_name(start)]}
    todo = [start]
    bad = []
    while todo:
        path = todo.pop()
        chain = chains[module_name(path)]
        for arrow in imports_of(path, names):
            target = arrow.target
            # importing a submodule runs its parent packages' __init__ too
            parts = target.split(".")
            for depth in range(1, len(parts) + 1):
                name = ".".join(parts[:depth])
                if heavy(name):
                    bad.append(" -> ".join([*chain, f"{target} (line {arrow.line})"]))
                    break
                if name in modules and name not in chains:
                    chains[name] = [*chain, name]
                    todo.append(modules[name])
    assert not bad, f"{light} reaches heavy imports:\n" + "\n".join(f"  {b}" for b in sorted(set(bad)))
