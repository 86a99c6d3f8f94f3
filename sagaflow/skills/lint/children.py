"""Child runs of skills that do not exist: ``child("SKILL", ...)`` from ``sagaflow.workflow``.

``child`` starts another skill as a child run; a literal name no discovered skill
registers would fail the parent run when it gets there, possibly hours in. Names
computed at run time are not judged.
"""

from __future__ import annotations

import ast

from sagaflow.skills.activity_names import close_matches
from sagaflow.skills.lint.findings import Finding, error
from sagaflow.skills.lint.pyscan import Module, calls

#: where the helper lives (its public path and the module behind it)
HELPER_PREFIX = "sagaflow."


def check(modules: list[Module], skills: set[str]) -> list[Finding]:
    """One error per ``child("name")`` call whose literal name is not in ``skills``.

    Args:
        modules: The skill's parsed files.
        skills: Every skill name discovery registers.
    """
    findings = []
    for module, node, name in calls(modules):
        if not (name.startswith(HELPER_PREFIX) and name.rpartition(".")[2] == "child"):
            continue
        arg = node.args[0] if node.args else next(
            (k.value for k in node.keywords if k.arg == "skill"), None)
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            continue
        if arg.value not in skills:
            findings.append(error(
                module.rel, node.lineno,
                f"child run of skill {arg.value!r}, which no skill on the search path "
                f"registers ({close_matches(arg.value, skills)}), so the run fails at this "
                "step; fix the name or install that skill", "child-skill"))
    return findings
