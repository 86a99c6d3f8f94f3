"""``sagaflow new NAME``: a new skill whose offline test passes as generated.

Two kinds, from the templates beside this module (``templates/<kind>/``, each
``*.tmpl`` file rendered with the skill's names):

* ``python`` — ``__init__.py`` (``register()``), ``workflow.py`` (one ``ask_model``
  call), ``prompts/``, ``replies.yaml``, ``tests/summarizes.yaml``;
* ``skillmd`` — ``SKILL.md`` (frontmatter Claude Code accepts), ``replies.yaml``
  (scripted model turns with a tool call), ``tests/summarizes.yaml``.

The skill goes to ``<dir>/NAME`` (default dir: the user's Claude Code skills,
``~/.claude/skills``, where ``sagaflow`` and Claude Code both find it). It is
written into a hidden temporary directory beside its target and renamed into place,
so a failure leaves nothing a skill search would find.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagaflow.errors import HomeError, UsageError
from sagaflow.paths import claude_dir

KINDS = ("python", "skillmd")
TEMPLATES = Path(__file__).resolve().parent / "templates"
SUFFIX = ".tmpl"
#: a name both kinds accept: SKILL.md's ([a-z0-9-], 64 characters) and a module's (a letter first)
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
NAME_MAX = 64


@dataclass
class Created:
    """A scaffolded skill: where, what, and the commands to go on with."""

    name: str
    kind: str
    path: Path
    files: list[str] = field(default_factory=list)
    next: list[str] = field(default_factory=list)
    #: one line about a same-named skill it hides ("" when none)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "path": str(self.path),
                "files": self.files, "next": self.next, "note": self.note}


def check_name(name: str) -> None:
    """Refuse a name either kind would refuse.

    Raises:
        UsageError: Not lowercase letters, digits and single hyphens starting with a
            letter, longer than 64 characters, or a Python keyword as a module.
    """
    import keyword

    from sagaflow.skills.naming import module_part, suggestion

    if not _NAME.fullmatch(name) or len(name) > NAME_MAX or keyword.iskeyword(module_part(name)):
        better = suggestion(name)[:NAME_MAX].strip("-")
        raise UsageError(
            f"Skill name {name!r} is not usable: use lowercase letters, digits and single "
            f"hyphens, starting with a letter, at most {NAME_MAX} characters (it is the "
            f"directory name and, for Python skills, a module name); e.g. {better!r}."
        )


def default_parent() -> Path:
    """Where ``new`` puts skills without ``--dir``: the user's Claude Code skills directory."""
    return claude_dir() / "skills"


def _names(name: str) -> dict[str, str]:
    module = name.replace("-", "_")
    return {"__SKILL__": name, "__MODULE__": module,
            "__CLASS__": "".join(part.capitalize() for part in name.split("-"))}


def _render(kind: str, target: Path, names: dict[str, str]) -> list[str]:
    """Write the kind's templates under ``target``; the relative paths written."""
    source = TEMPLATES / kind
    written = []
    for template in sorted(source.rglob(f"*{SUFFIX}")):
        rel = template.relative_to(source).with_suffix("")  # drops .tmpl
        text = template.read_text(encoding="utf-8")
        for placeholder, value in names.items():
            text = text.replace(placeholder, value)
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        written.append(rel.as_posix())
    return written


def _user_modes(top: Path) -> None:
    """Give ``top`` and everything under it the modes the user's umask gives new files
    (``mkdtemp`` makes ``0700`` and sagaflow's own umask ``0600``: a skill is source code
    the user shares, not private run data)."""
    from sagaflow.paths import user_umask

    mask = user_umask()
    for path in [top, *top.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)


def _visibility(name: str, path: Path, cwd: Path) -> tuple[bool, str]:
    """Whether skill discovery finds ``path`` as ``name`` from ``cwd``, and a note.

    A directory off the search path is reached through the printed
    ``SAGAFLOW_SKILLS_PATH=DIR sagaflow launch ...``, so it ranks below the project's
    and the user's skills there: a same-named one of those would still hide it.

    Raises:
        UsageError: A same-named skill of higher precedence would hide the new one.
    """
    from sagaflow.skills.discovery import discover_all, search_roots

    parent = path.parent.resolve()
    # the parent may not exist yet (a project's first .claude/skills): rank it as it will be
    searched = [(origin, root.resolve()) for origin, root in search_roots(cwd, planned=parent)]
    found = parent in [root for _, root in searched]
    ranked = [root for _, root in searched] if found else [
        *(root for origin, root in searched if origin in ("project", "user")), parent,
        *(root for origin, root in searched if origin == "bundled")]
    mine = ranked.index(parent)
    module = name.replace("-", "_")
    for source in discover_all(cwd).active:
        theirs = source.dir.parent.resolve()
        if source.module != f"skills.{module}" or theirs not in ranked:
            continue
        if ranked.index(theirs) < mine:
            via = "" if found else " (reached through SAGAFLOW_SKILLS_PATH, which ranks below it)"
            raise UsageError(
                f"A skill named {name} already exists at {source.dir} and would hide the new one "
                f"in {parent}{via}; pick another name, or change that skill instead."
            )
        return found, f"it hides the {source.origin} skill {name} at {source.dir}"
    return found, ""


def create(name: str, *, kind: str = "python", parent: Path | None = None,
           cwd: Path | None = None) -> Created:
    """Scaffold skill ``name`` of ``kind`` in ``parent / name`` (see the module docstring).

    Raises:
        UsageError: A bad name or kind, an existing directory (say how to go on), or a
            same-named skill that would hide it.
        HomeError: The directory cannot be written.
    """
    check_name(name)
    if kind not in KINDS:
        raise UsageError(f"Unknown skill kind {kind!r}; use {' or '.join(KINDS)}.")
    here = (cwd or Path.cwd()).resolve()
    parent = (parent or default_parent()).expanduser()
    parent = Path(os.path.abspath(here / parent))  # "../lab" as the directory it names
    path = parent / name
    if path.exists() or path.is_symlink():
        raise UsageError(
            f"{path} already exists; pick another name, pass --dir to create it elsewhere, or "
            f"remove that directory first (its skill would be replaced)."
        )
    found, note = _visibility(name, path, here)
    if (parent.exists() or parent.is_symlink()) and not parent.is_dir():
        what = "a dangling symbolic link" if parent.is_symlink() and not parent.exists() \
            else "not a directory"
        raise HomeError(f"Cannot create {path}: {parent} is {what}; pick a directory for --dir.")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
    except OSError as exc:
        raise HomeError(f"Cannot create {path}: {exc.strerror}; pick a writable --dir.") from None
    try:
        files = _render(kind, scratch, _names(name))
        _user_modes(scratch)
        os.rename(scratch, path)  # atomic; refuses if the name appeared meanwhile
    except OSError as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise HomeError(f"Cannot create {path}: {exc.strerror}; pick a writable --dir or "
                        "another name.") from None
    except BaseException:  # Ctrl-C mid-render: leave no hidden scratch directory behind
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Created(name, kind, path, files, _next_commands(name, kind, path, found), note)


def _next_commands(name: str, kind: str, path: Path, found: bool) -> list[str]:
    """``sagaflow test`` and a scripted ``launch``, runnable as printed."""
    launch_args = ["--topic", "tide pools"] if kind == "python" else ["tide", "pools"]
    launch = ["sagaflow", "launch", name, *launch_args, "--await", "--transport", "scripted"]
    if found:
        return [shlex.join(["sagaflow", "test", name]), shlex.join(launch)]
    prefix = f"SAGAFLOW_SKILLS_PATH={shlex.quote(str(path.parent))} "
    return [shlex.join(["sagaflow", "test", str(path)]), prefix + shlex.join(launch)]
