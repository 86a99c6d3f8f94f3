"""Prompt variables used vs provided, and prompt files referenced but missing.

Reads every ``load_prompt(__file__, NAME, substitutions)`` and
``load_claude_skill_prompt(SKILL, NAME, substitutions=...)`` call of a skill
(:mod:`sagaflow.skills.prompts` is the loader) whose name is a literal, finds
``prompts/NAME.md`` and compares its placeholders (``$name``, ``${name}``;
``$$`` is a literal dollar, Python's ``string.Template`` syntax) with the keys the
call passes, both ways. Substitutions lint cannot see statically (a dict built at
run time) are not judged.
"""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass
from pathlib import Path

from sagaflow.skills.activity_names import close_matches
from sagaflow.skills.lint.findings import Finding, error, warning
from sagaflow.skills.lint.pyscan import Module, calls, qualname


@dataclass(frozen=True)
class Placeholder:
    name: str  # the variable, or the text after "$" when malformed
    line: int
    valid: bool


def placeholders(text: str) -> list[Placeholder]:
    """The ``$`` placeholders of a template, in order (``$$`` skipped)."""
    found = []
    for match in string.Template.pattern.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        named = match.group("named") or match.group("braced")
        if named:
            found.append(Placeholder(named, line, True))
        elif match.group("invalid") is not None:
            found.append(Placeholder(text[match.start():match.start() + 6].split()[0], line, False))
    return found


#: substitutions lint cannot see (built at run time)
UNKNOWN = None


def _keys(expr: ast.expr | None, scope: ast.AST) -> frozenset[str] | bool | None:
    """The keys passed: a set, False for "no substitution at all", None when unknown."""
    if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
        return False
    if isinstance(expr, ast.Dict):
        if any(k is None or not (isinstance(k, ast.Constant) and isinstance(k.value, str))
               for k in expr.keys):
            return UNKNOWN
        return frozenset(str(k.value) for k in expr.keys if isinstance(k, ast.Constant))
    if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "dict"
            and not expr.args and all(k.arg for k in expr.keywords)):
        return frozenset(str(k.arg) for k in expr.keywords)
    if isinstance(expr, ast.Name):
        assigned = [n for n in ast.walk(scope) if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == expr.id for t in n.targets)]
        changed = any(
            (isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
             and n.value.id == expr.id and isinstance(n.ctx, ast.Store))
            or (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                and n.value.id == expr.id)
            for n in ast.walk(scope))
        if len(assigned) == 1 and not changed:
            return _keys(assigned[0].value, scope)
    return UNKNOWN


def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _text(expr: ast.expr | None, module: Module) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Name):  # a module-level string constant
        for node in module.tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                    and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)):
                return node.value.value
    return None


def _scopes(module: Module) -> dict[int, ast.AST]:
    """Call id -> the innermost function around it (the module for module-level calls)."""
    scope: dict[int, ast.AST] = {}
    todo: list[tuple[ast.AST, ast.AST]] = [(module.tree, module.tree)]
    while todo:  # one pass, carrying the innermost function down the tree
        node, around = todo.pop()
        scope[id(node)] = around
        inner = node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else around
        todo.extend((child, inner) for child in ast.iter_child_nodes(node))
    return scope


@dataclass(frozen=True)
class Render:
    """A ``render(inp.FIELD, {...})`` call: a template filled in the skill's own code."""

    file: str
    line: int
    keys: frozenset[str] | bool | None


@dataclass
class Context:
    """What the calls of one skill share.

    Attributes:
        renders: Input field name -> the ``render(inp.<field>, ...)`` calls filling it.
        later: The skill fills templates in ways lint cannot follow (``string.Template``,
            ``render`` of something other than an input field): a prompt loaded without
            substitutions may keep its placeholders on purpose.
    """

    renders: dict[str, list[Render]]
    later: bool


def _context(modules: list[Module]) -> Context:
    renders: dict[str, list[Render]] = {}
    later = False
    scopes: dict[str, dict[int, ast.AST]] = {}
    for module, node, name in calls(modules):
        func = name.rpartition(".")[2]
        if func in {"substitute", "safe_substitute"}:
            later = True
        elif func == "render":
            target = _argument(node, 0, "template")
            if not isinstance(target, ast.Attribute):
                later = True
                continue
            if module.rel not in scopes:
                scopes[module.rel] = _scopes(module)
            keys = _keys(_argument(node, 1, "substitutions"), scopes[module.rel][id(node)])
            renders.setdefault(target.attr, []).append(Render(
                module.rel, node.lineno, frozenset() if keys is False else keys))
    return Context(renders, later)


def _fields(module: Module) -> dict[int, str]:
    """Call id -> the keyword it is passed as (``Input(critic_prompt=load_prompt(...))``)."""
    return {id(k.value): k.arg for node in ast.walk(module.tree) if isinstance(node, ast.Call)
            for k in node.keywords if k.arg and isinstance(k.value, ast.Call)}


def check(skill_dir: Path, modules: list[Module]) -> list[Finding]:
    """Prompt findings for every literal ``load_prompt`` call of the skill.

    A prompt loaded without substitutions and passed to the workflow as an input field
    (``critic_prompt=load_prompt(__file__, "critic.user")``) is a template: its
    variables are checked against each ``render(inp.critic_prompt, {...})`` call.
    """
    findings: list[Finding] = []
    context = _context(modules)
    for module in modules:
        scopes, fields = _scopes(module), _fields(module)
        for call in ast.walk(module.tree):
            if isinstance(call, ast.Call):
                findings += _one_call(skill_dir, module, call, scopes[id(call)],
                                      fields.get(id(call)), context)
    return findings


def _one_call(skill_dir: Path, module: Module, call: ast.Call, scope: ast.AST,
              field: str | None, context: Context) -> list[Finding]:
    """Findings for one call (``field``: the input field it fills, if any)."""
    func = (qualname(call.func, module.aliases) or "").rpartition(".")[2]
    if func == "load_prompt":
        if not (isinstance(a := _argument(call, 0, "module_file"), ast.Name) and a.id == "__file__"):
            return []
        base = (skill_dir / module.rel).parent / "prompts"
        keys = _keys(_argument(call, 2, "substitutions"), scope)
    elif func == "load_claude_skill_prompt":
        if _text(_argument(call, 0, "skill_name"), module) != skill_dir.name:
            return []  # another skill's prompt: found on the search path at run time
        base = skill_dir / "prompts"
        keys = _keys(_argument(call, 2, "substitutions"), scope)
        keys = False if keys == frozenset() else keys  # empty: returned as written (0.10)
    else:
        return []
    name = _text(_argument(call, 1, "name"), module)
    if name is None:
        return []
    path = base / (name if name.endswith(".md") else f"{name}.md")
    rel = str(path.relative_to(skill_dir))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [error(rel, 1, f"prompt file {rel} is not UTF-8 text, so {func} fails the "
                      "launch; save it as UTF-8", "prompt-file")]
    except OSError:
        have = sorted(p.stem for p in base.glob("*.md")) if base.is_dir() else []
        return [error(module.rel, call.lineno,
                      f"prompt file {rel} does not exist, so {func} fails the launch "
                      f"({close_matches(name.removesuffix('.md'), have)}); create it or fix "
                      "the name", "prompt-file")]
    if keys is False and field in context.renders:
        return [f for r in context.renders[field or ""] for f in _compare(
            rel, text, r.keys, f"render at {r.file}:{r.line}", r.file, r.line,
            "the run fails at that step")]
    if keys is False and context.later:
        return []
    return _compare(rel, text, keys, f"{func} at {module.rel}:{call.lineno}", module.rel,
                    call.lineno, "the launch fails")


def _compare(rel: str, text: str, keys: frozenset[str] | bool | None, site: str,
             call_file: str, call_line: int, fails: str) -> list[Finding]:
    """Placeholders of ``rel`` vs the keys ``site`` gives (``fails``: what a missing one does)."""
    found = placeholders(text)
    if keys is UNKNOWN:
        return []
    if keys is False:
        return [warning(rel, p.line,
                        f"${p.name} is never substituted: {site} passes no substitutions, so "
                        f"the model reads '${p.name}' as written; pass substitutions="
                        f"{{'{p.name}': ...}} or write $${p.name} for a literal dollar sign",
                        "prompt-variable")
                for p in _first_each(found) if p.valid]
    assert isinstance(keys, frozenset)
    findings = []
    for p in _first_each(found):
        if not p.valid:
            findings.append(error(rel, p.line, f"malformed placeholder '{p.name}': {site} "
                                  f"substitutes this prompt, so {fails}; write $$ for a "
                                  "literal dollar sign", "prompt-variable"))
        elif p.name not in keys:
            given = ", ".join(sorted(keys)) or "none"
            findings.append(error(rel, p.line, f"${p.name} has no value: {site} gives only "
                                  f"{given}, so {fails}; add {p.name!r} to its "
                                  f"substitutions or write $${p.name} for a literal dollar sign",
                                  "prompt-variable"))
    used = {p.name for p in found if p.valid}
    for key in sorted(keys - used):
        findings.append(warning(call_file, call_line,
                                f"substitution {key!r} is not used by {rel} (it uses "
                                f"{', '.join('$' + u for u in sorted(used)) or 'no variables'}); "
                                f"remove it or add ${key} to the prompt", "prompt-unused"))
    return findings


def _first_each(found: list[Placeholder]) -> list[Placeholder]:
    seen: set[str] = set()
    first = []
    for p in found:
        if p.name not in seen:
            seen.add(p.name)
            first.append(p)
    return first
