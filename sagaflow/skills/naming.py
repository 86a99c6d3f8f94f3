"""The rules a Python skill's directory name must follow (one rule per case).

A skill directory ``<root>/<name>/`` is imported as the module
``skills.<name with '-' as '_'>``, and the workflow sandbox re-imports it by
that name on every run, so:

1. **Valid module names only.** The directory name must be letters, digits,
   ``-`` and ``_``, starting with a letter (``my-review``, ``review2``). Any other
   name (``My Review``, ``2fast``, ``a.b``) is refused with its reason, never
   imported.
2. **No two names for one module.** Directories of one search root whose names
   differ only by ``-`` versus ``_`` (``my-skill`` and ``my_skill``) would be the
   same module: both are refused until one is renamed. (Across roots, the
   higher-precedence root wins and the other is *shadowed*, as for any name.)
3. **A symlink is named like its target.** A link ``review -> ../code-review`` is
   refused: the skill's code names itself by its own directory
   (``from skills.code_review.workflow import ...``), so the link must be called
   ``code-review``.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

_VALID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def module_part(name: str) -> str:
    """The module name a directory name imports as (``my-review`` -> ``my_review``)."""
    return name.replace("-", "_")


def suggestion(name: str) -> str:
    """A valid name close to ``name`` (``My Review`` -> ``my-review``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "skill"
    return slug if slug[0].isalpha() else f"skill-{slug}"


def name_problem(child: Path) -> str | None:
    """Why the skill directory ``child`` breaks rule 1 or 3, or None."""
    name = child.name
    if not _VALID.fullmatch(name) or keyword.iskeyword(module_part(name)):
        return (
            f"Skill directory {child} has a name that is not a valid module name: a Python "
            f"skill's directory name must be letters, digits, '-' and '_', starting with a "
            f"letter (it is imported as skills.<name with '-' as '_'>); rename it, e.g. to "
            f"{suggestion(name)!r}."
        )
    if child.is_symlink():
        target = child.resolve()
        if target.name != name:
            return (
                f"Skill directory {child} is a link to {target}, whose name differs; a skill is "
                f"imported under its own directory's name (its code imports "
                f"skills.{module_part(target.name)}), so name the link {target.name!r}."
            )
    return None


def collision_problem(child: Path, others: list[Path]) -> str:
    """The reason given to each of several directories of one root that share a module."""
    names = ", ".join(repr(p.name) for p in sorted({child, *others}))
    return (
        f"Skill directories {names} in {child.parent} would all be imported as "
        f"skills.{module_part(child.name)}; rename or remove all but one of them."
    )
