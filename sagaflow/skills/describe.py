"""One skill described for ``sagaflow skills SKILL``: what it does, takes and where it lives.

Arguments are the skill's declared ones (``SkillSpec.arguments``) or, when it
declares none, learned the way ``launch`` learns them: ``build_input`` is called in
a throwaway directory with an argument dict that records the keys it reads. A key
read with ``cli_args[key]`` is required (its ``KeyError`` stops the build, so the
key is filled with a placeholder and the build tried again); one read with
``.get`` is optional. A build that fails for another reason (a placeholder that is
not a number, say) leaves what was learned so far, marked ``partial``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sagaflow.errors import UnknownSkillError
from sagaflow.skills.discovery import LoadedSkills
from sagaflow.skills.registry import SkillSpec

#: how many required keys learning fills in before it gives up
MAX_LEARN = 20


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _declared(spec: SkillSpec) -> dict[str, Any]:
    from sagaflow.skills.args import EXTRA

    names = [n for n in spec.arguments or [] if n.rstrip("!") != EXTRA]
    declared_extra = len(names) != len(spec.arguments or [])
    return {
        "source": "declared",
        "required": [_flag(n.rstrip("!")) for n in names if n.endswith("!")],
        "optional": [_flag(n) for n in names if not n.endswith("!")],
        "any": False, "partial": False, "free_text": declared_extra,
    }


def _learned(spec: SkillSpec) -> dict[str, Any]:
    from sagaflow.skills.args import EXTRA, TrackingArgs

    required: list[str] = []
    asked: set[str] = set()
    took_all, partial = False, False
    with tempfile.TemporaryDirectory(prefix="sagaflow-describe-") as tmp:
        for _ in range(MAX_LEARN):
            args = TrackingArgs({key: "x" for key in required})
            try:
                if spec.build_input is not None:
                    spec.build_input(run_id="describe", run_dir=tmp,
                                     inbox_path=str(Path(tmp) / "INBOX.md"), cli_args=args)
            except KeyError as exc:
                key = str(exc.args[0]) if exc.args else ""
                asked |= args.asked
                if key in args.missing and key not in required:
                    required.append(key)
                    continue
                partial = True
            except Exception:  # a placeholder the skill could not use: keep what we have
                partial = True
            asked |= args.asked
            took_all = took_all or args.took_all
            break
        else:
            partial = True
    free_text = EXTRA in asked  # read as cli_args["_extra"]: the launch's free words
    asked.discard(EXTRA)
    return {
        "source": "learned",
        "required": [_flag(k) for k in required if k != EXTRA],
        "optional": [_flag(k) for k in sorted(asked - set(required))],
        "any": took_all, "partial": partial, "free_text": free_text,
    }


def describe_skill(loaded: LoadedSkills, name: str) -> dict[str, Any]:
    """``{name, description, origin, dir, status, error, workflow, uses_model, arguments}``.

    ``arguments`` is ``{source: declared|learned, required: [--flag], optional:
    [--flag], any: bool, partial: bool, free_text: bool}`` (``free_text``: the skill reads
    the launch's free words, ``cli_args["_extra"]``); None when the skill failed to load.

    Raises:
        UnknownSkillError: No discoverable skill (loaded or broken) has that name.
    """
    infos = [i for i in loaded.infos if name in (i.name, i.dir.name)]
    if not infos:
        from sagaflow.skills.prepare import find_skill

        find_skill(loaded, name)  # raises with near names
        raise UnknownSkillError(f"Unknown skill {name!r}; run 'sagaflow skills' for the list.")
    info = next((i for i in infos if i.status == "ok"), infos[0])
    spec = loaded.registry.get(info.name) if info.status == "ok" else None
    arguments = None
    if spec is not None:
        arguments = _declared(spec) if spec.arguments is not None else _learned(spec)
    return {
        "name": info.name, "description": spec.description if spec else "",
        "origin": info.origin, "dir": str(info.dir), "status": info.status,
        "error": info.error, "workflow": info.workflow,
        "uses_model": spec.uses_model if spec else None, "arguments": arguments,
    }
