"""Claude Code's permission rules: which tool calls run, ask a human, or are refused.

A rule is ``Tool`` (every call of that tool) or ``Tool(specifier)``:

* ``Bash(npm run test:*)`` — the command starts with ``npm run test`` at a word boundary;
  ``Bash(git * main)`` — ``*`` matches any text; ``Bash(npm test)`` — exactly that command.
  A compound command (``a && b``, ``a; b``, ``a | b``, newlines, subshells) matches per
  sub-command, as Claude Code does: every sub-command must be allowed for the call to be
  allowed, and one denied (or asked) sub-command denies (or asks for) the whole call, so
  ``Bash(ls:*)`` never allows ``ls && rm -rf /``. A command holding ``$(...)``, backticks or
  process substitution, or one that does not parse, is allowed only by a bare ``Bash`` rule.
  Leading shell keywords (``{``, ``do``, ``then``...) and ``NAME=value`` assignments are
  dropped before deny and ask rules match, so ``{ rm x; }`` and ``FOO=1 rm x`` meet a
  ``Bash(rm:*)`` deny; allow rules see the assignments (``Bash(make:*)`` does not allow
  ``LD_PRELOAD=x make``).
  As in Claude Code, Bash rules are a guard, not a sandbox: ``find -exec``, ``xargs``,
  ``sh -c`` can still run what a prefix rule meant to keep out.
* ``Read(./docs/**)``, ``Edit(src/**)`` — gitignore-style paths (the ``pathspec`` library):
  ``//abs/path`` from the filesystem root, ``~/path`` from the home directory, ``/path`` and
  ``./path`` from the workspace, ``path`` as gitignore reads it, from the workspace. ``Read``
  rules also govern Glob and Grep, ``Edit`` rules also govern Write (Claude Code's families).
* ``WebFetch(domain:example.com)`` — the URL's host (``*`` wildcards allowed).
* ``mcp__server`` / ``mcp__server__*`` — every tool of that MCP server; ``mcp__server__tool``.

:func:`decide` evaluates ``deny``, then ``ask``, then ``allow``; the first list with a
matching rule wins, so an allow never overrides a deny. With no matching rule, the
read-only tools (Read, Glob, Grep) run and every other tool asks. Where the rules come
from: :func:`sagaflow.agent.permission_sources.load_rules`.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from sagaflow.agent.shellwords import bash_subcommands
from sagaflow.errors import ConfigError

if TYPE_CHECKING:
    import pathspec

Decision = Literal["allow", "ask", "deny"]
#: tools that run without a rule (Claude Code: read-only tools need no approval)
READ_ONLY_TOOLS = frozenset({"Read", "Glob", "Grep"})
#: a rule for the key also governs these tools (Claude Code's file-tool families)
FAMILIES: dict[str, frozenset[str]] = {
    "Read": frozenset({"Read", "Glob", "Grep"}),
    "Edit": frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"}),
}
PATH_TOOLS = frozenset({"Read", "Glob", "Grep", "Edit", "Write", "MultiEdit", "NotebookEdit"})
_RULE = re.compile(r"^(?P<tool>[A-Za-z][A-Za-z0-9_\-*]*)(?:\((?P<spec>.*)\))?$", re.DOTALL)


@dataclass(frozen=True)
class PermissionRules:
    """The merged ``allow`` / ``ask`` / ``deny`` lists of one run (rule strings, in order)."""

    allow: tuple[str, ...] = ()
    ask: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One parsed rule: the tool name and its specifier (None for a bare ``Tool``)."""

    text: str
    tool: str
    spec: str | None


def parse_rule(text: str, *, source: str = "a permission rule") -> Rule:
    """Parse ``Tool`` / ``Tool(specifier)``.

    Raises:
        ConfigError: the rule is empty or malformed, naming ``source``.
    """
    rule = text.strip()
    match = _RULE.match(rule)
    if not match:
        raise ConfigError(
            f"The permission rule {text!r} in {source} is malformed; write Tool or "
            "Tool(specifier), e.g. Bash(npm run test:*) or Read(./docs/**)."
        )
    spec = match.group("spec")
    if spec is not None and spec.strip() in ("", "*"):
        spec = None  # Bash() and Bash(*) mean every call, like Bash
    return Rule(rule, match.group("tool"), spec)


def load_rules(
    workspace: str | Path,
    skill_allowed_tools: str | Sequence[str] | None = None,
    extra_allow: Iterable[str] = (),
    *,
    config_permissions: Mapping[str, Sequence[str]] | None = None,
) -> PermissionRules:
    """The run's rules from every source; see
    :func:`sagaflow.agent.permission_sources.load_rules` (same arguments and errors)."""
    from sagaflow.agent.permission_sources import load_rules as load

    return load(workspace, skill_allowed_tools, extra_allow, config_permissions=config_permissions)


@lru_cache(maxsize=512)
def _cached(text: str) -> Rule:
    return parse_rule(text)


def decide(rules: PermissionRules, name: str, input: dict[str, Any], workspace: str) -> Decision:
    """``"allow"``, ``"ask"`` or ``"deny"`` for one call of tool ``name`` with ``input``.

    Args:
        rules: The run's rules.
        name: The tool (``Bash``, ``Read``, ``mcp__server__tool``...).
        input: The call's input as the model gave it.
        workspace: The run's workspace (absolute), the base of relative paths.

    Raises:
        ConfigError: a rule is malformed (rules are normally checked when loaded).
    """
    return explain(rules, name, input, workspace)[0]


def explain(
    rules: PermissionRules, name: str, input: dict[str, Any], workspace: str
) -> tuple[Decision, str | None]:
    """Like :func:`decide`, plus the rule that decided (None: the default applied)."""
    if name == "Bash":
        return _decide_bash(rules, str(input.get("command", "")))
    for decision, listed in _in_order(rules):
        for text in listed:
            if matches(_cached(text), name, input, workspace):
                return decision, text
    return ("allow" if name in READ_ONLY_TOOLS else "ask"), None


def hidden_files(rules: PermissionRules, workspace: str) -> Callable[[str], bool] | None:
    """For Glob and Grep, which read many files in one call: a test saying whether a file
    found must be left out, because reading it alone would be denied or would ask (a path
    rule of the Read family). None when no such rule exists (nothing to hide)."""
    guarded = [
        text for text in (*rules.deny, *rules.ask)
        if _cached(text).spec is not None and _governs(_cached(text).tool, "Read")
    ]
    if not guarded:
        return None

    def hidden(path: str) -> bool:
        return explain(rules, "Read", {"file_path": path}, workspace)[0] != "allow"

    return hidden


def _in_order(rules: PermissionRules) -> tuple[tuple[Decision, tuple[str, ...]], ...]:
    return (("deny", rules.deny), ("ask", rules.ask), ("allow", rules.allow))


def _governs(rule_tool: str, name: str) -> bool:
    if rule_tool == name:
        return True
    if rule_tool.startswith("mcp__"):  # mcp__server covers mcp__server__tool; * wildcards
        return name.startswith(f"{rule_tool}__") or fnmatch.fnmatchcase(name, rule_tool)
    return name in FAMILIES.get(rule_tool, ())


def matches(rule: Rule, name: str, input: dict[str, Any], workspace: str) -> bool:
    """Whether ``rule`` covers one call (Bash: one sub-command, see :func:`bash_subcommands`)."""
    if not _governs(rule.tool, name):
        return False
    if rule.spec is None:
        return True
    if name == "Bash":
        return bash_matches(rule.spec, str(input.get("command", "")))
    if name in PATH_TOOLS:
        target = input.get("file_path") or input.get("notebook_path")
        if target:
            return path_matches(rule.spec, str(target), workspace)
        # Glob and Grep search a directory: the rule covers it, or what lies inside it
        return path_matches(rule.spec, str(input.get("path") or workspace), workspace, tree=True)
    if name == "WebFetch":
        return domain_matches(rule.spec, str(input.get("url", "")))
    if name.startswith("mcp__"):
        return fnmatch.fnmatchcase(name, f"{rule.tool}__{rule.spec}")
    return False  # a specifier for a tool sagaflow does not inspect never matches


# -- Bash ---------------------------------------------------------------------------------


def _bash_rule_matches(spec: str, command: str) -> bool:
    if spec.endswith(":*"):  # Claude Code's prefix form, at a word boundary
        prefix = spec[:-2].strip()
        return command == prefix or command.startswith(prefix + " ")
    pattern = re.escape(spec).replace(r"\*", ".*")
    if spec.endswith(" *"):  # "ls *" also covers a bare "ls"
        pattern = re.escape(spec[:-2]) + r"(?: .*)?"
    return re.fullmatch(pattern, command, re.DOTALL) is not None


def bash_matches(spec: str, subcommand: str) -> bool:
    """Whether a ``Bash(spec)`` rule covers one simple command (already split)."""
    return _bash_rule_matches(spec, subcommand.strip())


def _decide_bash(rules: PermissionRules, command: str) -> tuple[Decision, str | None]:
    parts = bash_subcommands(command, assignments=True)
    bare_parts = bash_subcommands(command) or []
    whole = command.strip()
    # deny and ask rules see every sub-command, with and without its FOO=bar assignments,
    # and the whole line (an unsplittable line too); allow rules must match the sub-command
    # with its assignments (an allowed "make" is not an allowed "LD_PRELOAD=x make")
    candidates = [*(parts or ()), *bare_parts, whole]
    for decision, listed in _in_order(rules)[:2]:  # deny, then ask
        for text in listed:
            rule = _cached(text)
            if rule.tool == "Bash" and (
                rule.spec is None or any(bash_matches(rule.spec, c) for c in candidates)
            ):
                return decision, text
    allow = [_cached(text) for text in rules.allow if _cached(text).tool == "Bash"]
    bare = next((rule.text for rule in allow if rule.spec is None), None)
    if bare is not None:
        return "allow", bare
    if not parts:  # unsplittable: only a bare Bash rule allows it
        return "ask", None
    hits = [next((r.text for r in allow if r.spec and bash_matches(r.spec, p)), None) for p in parts]
    if all(hit is not None for hit in hits):
        return "allow", hits[0]
    return "ask", None


# -- paths and domains ----------------------------------------------------------------------


@lru_cache(maxsize=512)
def _spec_for(pattern: str) -> pathspec.GitIgnoreSpec:
    import pathspec  # on the first path rule: importing it costs a worker 50-150 ms here

    return pathspec.GitIgnoreSpec.from_lines([pattern])


def path_matches(spec: str, target: str, workspace: str, *, tree: bool = False) -> bool:
    """Whether a path rule's specifier covers ``target`` (resolved, symlinks followed).

    ``//x`` is relative to ``/``, ``~/x`` to the home directory, ``/x`` and ``./x`` to the
    workspace (anchored), ``x`` to the workspace with gitignore's own anchoring. With
    ``tree``, ``target`` is a directory searched whole: the rule covers it when it covers the
    directory or anything directly inside it.
    """
    if spec.startswith("//"):
        base, pattern = "/", spec[1:]
    elif spec.startswith("~/"):
        base, pattern = os.path.expanduser("~"), spec[1:]
    elif spec.startswith("./"):
        base, pattern = workspace, spec[1:]
    else:
        base, pattern = workspace, spec
    path = Path(target if os.path.isabs(target) else os.path.join(workspace, target))
    try:
        resolved = os.path.realpath(path)
        base_real = os.path.realpath(base)
    except (OSError, ValueError):
        return False
    rel = os.path.relpath(resolved, base_real)
    if rel == "." or rel.startswith(".."):
        return False
    spec_ = _spec_for(pattern)
    if tree:
        return any(spec_.match_file(x) for x in (rel, f"{rel}/", f"{rel}/-"))
    return spec_.match_file(f"{rel}/" if os.path.isdir(resolved) else rel)


def domain_matches(spec: str, url: str) -> bool:
    """``domain:example.com`` against the URL's host (case-insensitive, ``*`` allowed)."""
    if not spec.startswith("domain:"):
        return False
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and fnmatch.fnmatchcase(host, spec[len("domain:"):].strip().lower())
