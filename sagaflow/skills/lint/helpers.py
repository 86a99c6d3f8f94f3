"""Calls of ``sagaflow.workflow``'s helpers that fail the run when they are reached.

Each helper checks its arguments at the call and fails the run with one sentence
(:mod:`sagaflow._engine.flow`, :mod:`sagaflow._engine.flow_control`), but a call
hours into a run fails it hours in. What a literal already shows is found here:

* an option the helper does not have (``ask_model(p, temprature=0)``), or more
  positional arguments than it takes;
* a duration that is not seconds or a ``timedelta`` (``sleep("5m")``,
  ``timeout="10"``), or not above zero;
* ``parallel([])``; a literal ``route`` key that no literal branch declares, with no
  ``default=``; a required option missing (``loop_until`` without ``max_iterations``);
* a ``tier`` other than haiku, sonnet or opus, ``max_tokens``/``max_concurrency``/
  ``max_iterations`` below 1, an ``on_max`` other than ``fail`` or ``return_last``.

Values computed at run time are not judged. :data:`SIGNATURES` mirrors the helpers'
signatures (this layer cannot import the workflow side); a unit test pins the two
together.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from sagaflow.skills.activity_names import close_matches
from sagaflow.skills.lint.findings import Finding, error
from sagaflow.skills.lint.pyscan import Module, calls

RULE = "helper-call"


@dataclass(frozen=True)
class Signature:
    """What a helper accepts: ``positional`` names (in order, may also be given by
    keyword), ``keyword_only`` names, the ``required`` ones, and which are durations."""

    positional: tuple[str, ...]
    keyword_only: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    durations: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return self.positional + self.keyword_only


#: the public helpers of ``sagaflow.workflow`` (pinned to the real ones by a unit test)
SIGNATURES = {
    "ask_model": Signature(("prompt",), ("system", "tier", "max_tokens", "output", "tools",
                                         "role", "timeout"), ("prompt",), ("timeout",)),
    "parallel": Signature(("calls",), ("max_concurrency", "fail_fast"), ("calls",)),
    "loop_until": Signature(("body",), ("max_iterations", "on_max"),
                            ("body", "max_iterations")),
    "route": Signature(("key", "branches"), ("default",), ("key", "branches")),
    "sleep": Signature(("duration",), (), ("duration",), ("duration",)),
    "child": Signature(("skill", "args"), ("wait",), ("skill",)),
    "wait_for_signal": Signature(("name",), ("timeout", "default"), ("name",), ("timeout",)),
    "ApprovalGate": Signature(("timeout_seconds", "default"), ("timeout",), (),
                              ("timeout_seconds", "timeout")),
}
TIERS = ("haiku", "sonnet", "opus")
#: options that must be a whole number of at least 1 when given literally
AT_LEAST_ONE = ("max_tokens", "max_concurrency", "max_iterations")


def _literal(node: ast.expr | None) -> tuple[bool, object]:
    """``(True, value)`` for a constant (a negative number included), else ``(False, None)``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, int | float) \
            and not isinstance(node.operand.value, bool):
        return True, -node.operand.value
    if isinstance(node, ast.Constant):
        return True, node.value
    return False, None


def _bind(call: ast.Call, sig: Signature) -> tuple[dict[str, ast.expr], list[str]]:
    """Argument name -> expression for ``call``, and the problems binding found."""
    bound: dict[str, ast.expr] = {}
    problems: list[str] = []
    starred = any(isinstance(a, ast.Starred) for a in call.args)
    if len(call.args) > len(sig.positional) and not starred:
        problems.append(f"it takes at most {len(sig.positional)} positional argument"
                        f"{'s' * (len(sig.positional) != 1)} "
                        f"({', '.join(sig.positional) or 'none'}), given {len(call.args)}; "
                        f"pass the rest by name ({', '.join(sig.keyword_only)})")
    if not starred:
        bound.update(zip(sig.positional, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg is None:  # **options: not judged
            continue
        if keyword.arg not in sig.names:
            near = close_matches(keyword.arg, sig.names)
            hint = f" ({near})" if near.startswith("did you mean") else ""
            problems.append(f"no option {keyword.arg!r}{hint}; its options: "
                            f"{', '.join(sig.names)}")
            continue
        bound[keyword.arg] = keyword.value
    unpacked = starred or any(k.arg is None for k in call.keywords)
    if not unpacked:
        missing = [name for name in sig.required if name not in bound]
        if missing:
            problems.append(f"{', '.join(missing)} missing (required)")
    return bound, problems


def _values(helper: str, sig: Signature, bound: dict[str, ast.expr]) -> list[str]:
    """Problems a literal argument shows."""
    problems = []
    for name in sig.durations:
        known, value = _literal(bound.get(name))
        if not known or (value is None and name != "duration"):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{name} must be seconds (int or float) or a datetime.timedelta, "
                            f"not {type(value).__name__} {value!r:.40}")
        elif value <= 0:
            problems.append(f"{name} must be longer than zero, not {value:g}s")
    for name in AT_LEAST_ONE:
        known, value = _literal(bound.get(name))
        if known and value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(f"{name} must be a whole number of at least 1, not {value!r:.40}")
    known, tier = _literal(bound.get("tier"))
    if helper == "ask_model" and known and (not isinstance(tier, str) or tier.lower() not in TIERS):
        problems.append(f"tier must be one of {', '.join(TIERS)}, not {tier!r:.40}")
    known, on_max = _literal(bound.get("on_max"))
    if helper == "loop_until" and known and on_max not in ("fail", "return_last"):
        problems.append(f"on_max must be 'fail' or 'return_last', not {on_max!r:.40}")
    calls = bound.get("calls")
    if helper == "parallel" and isinstance(calls, ast.List | ast.Tuple) and not calls.elts:
        problems.append("needs at least one call; this list is empty")
    if helper == "route":
        problems += _route(bound)
    return problems


def _route(bound: dict[str, ast.expr]) -> list[str]:
    branches = bound.get("branches")
    if not isinstance(branches, ast.Dict) or None in branches.keys:
        return []
    keys = [_literal(k) for k in branches.keys]
    if not branches.keys:
        return ["needs at least one branch; this mapping is empty"]
    known, key = _literal(bound.get("key"))
    declared = [str(v) for ok, v in keys if ok]
    if (not known or not isinstance(key, str) or "default" in bound
            or len(declared) != len(keys) or key in declared):
        return []
    near = close_matches(key, declared)
    hint = f" ({near})" if near.startswith("did you mean") else ""
    return [f"key {key!r} is not declared{hint}; declared: "
            f"{', '.join(sorted(declared))}; add a branch for it or pass default="]


def check(modules: list[Module]) -> list[Finding]:
    """One error per problem in each call of a ``sagaflow.workflow`` helper (any file)."""
    findings = []
    for module, node, name in calls(modules):
        helper = name.rpartition(".")[2]
        if not name.startswith("sagaflow.") or helper not in SIGNATURES:
            continue
        sig = SIGNATURES[helper]
        bound, problems = _bind(node, sig)
        problems += _values(helper, sig, bound)
        for problem in problems:
            findings.append(error(module.rel, node.lineno,
                                  f"{helper}(): {problem}, so the run fails at this call", RULE))
    return findings
