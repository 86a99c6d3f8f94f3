"""SKILL.md checks: frontmatter problems and ``$`` references nothing substitutes.

The frontmatter is validated by the loader itself
(:func:`sagaflow.agent.skillmd.read_skillmd`, which refuses what would stop the
skill from loading); lint adds what loads but misbehaves:

* keys Claude Code does not know (sagaflow's own belong under ``metadata.sagaflow``),
  ``allowed-tools`` sagaflow does not provide, ``metadata.sagaflow`` values a launch
  would refuse;
* ``$name`` in the body: only ``$ARGUMENTS``, ``$ARGUMENTS[N]`` and ``$N`` are
  substituted (Claude Code's rules, :func:`sagaflow.agent.skillmd.substitute`), so
  ``$topic`` reaches the model as written (shell variables in code are left alone:
  upper-case names and anything inside code blocks or backticks);
* ``$N`` / ``$ARGUMENTS[N]`` beyond the words ``argument-hint`` announces.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sagaflow.agent.skillmd import SKILL_FILE, UNSUPPORTED_TOOLS, SkillMd, read_skillmd, tool_name
from sagaflow.config import TIERS
from sagaflow.errors import SkillLoadError
from sagaflow.skills.lint.findings import Finding, error, warning
from sagaflow.skills.skillmd_spec import known_tools

#: top-level keys of Claude Code's skills and the Agent Skills format
KNOWN_KEYS = frozenset({
    "name", "description", "license", "compatibility", "metadata", "allowed-tools",
    "argument-hint", "arguments", "disable-model-invocation", "user-invocable", "model",
    "context", "agent", "hooks", "version", "when_to_use",
})
#: sagaflow's keys under metadata.sagaflow -> what each must be
OWN_KEYS = {"max-turns": "a whole number above 0", "max-tokens": "a whole number above 0",
            "tier": f"one of {', '.join(t.lower() for t in TIERS)}"}
#: amounts written like "$5bn" or "($mm)" are money, not placeholders
MONEY = frozenset({"k", "m", "mm", "mn", "b", "bn", "t", "tn"})
_NAMED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?(\[\d+\])?")
_INDEXED = re.compile(r"\$ARGUMENTS\[(\d+)\]|\$(\d+)(?!\w)")
_CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.S)
_HINT_WORD = re.compile(r"\[[^\]]*\]|<[^>]*>")


def _body_start(lines: list[str]) -> int:
    """The 1-based line number of the body's first line (after the closing ``---``)."""
    for i, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            return i + 1
    return 1


def _key_line(lines: list[str], key: str) -> int:
    for i, line in enumerate(lines, start=1):
        if re.match(rf"\s*{re.escape(key)}\s*:", line):
            return i
    return 1


def _load_error(exc: SkillLoadError, path: Path, lines: list[str]) -> Finding:
    """The loader's refusal at the line it names, else at the key it is about."""
    match = re.match(rf"{re.escape(str(path))}(?::(\d+))?: (.*)$", exc.message, re.S)
    line, text = (int(match.group(1) or 0), match.group(2)) if match else (0, exc.message)
    if not line:
        key = next((k for k in ("allowed-tools", "description", "name") if k in text), None)
        line = _key_line(lines, key) if key else 1
    return error(SKILL_FILE, line, text.rstrip("."), "frontmatter")


def check(skill_dir: Path) -> list[Finding]:
    """Findings for ``skill_dir/SKILL.md`` (a SKILL.md skill)."""
    path = skill_dir / SKILL_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    findings: list[Finding] = []
    try:
        skill = read_skillmd(skill_dir, known_tools())
    except SkillLoadError as exc:
        findings.append(_load_error(exc, path, lines))
        try:
            skill = read_skillmd(skill_dir)  # without the tool check: the rest can be linted
        except SkillLoadError:
            return findings
    return findings + _frontmatter(skill, lines) + _body(skill, lines)


def _frontmatter(skill: SkillMd, lines: list[str]) -> list[Finding]:
    findings = []
    unknown = [k for k in skill.frontmatter if k not in KNOWN_KEYS]
    for key in (k for k in unknown if k in OWN_KEYS):
        findings.append(warning(SKILL_FILE, _key_line(lines, key),
                                f"{key} is a sagaflow option, read only under metadata: "
                                "{sagaflow: {...}}; move it there", "frontmatter"))
    foreign = [k for k in unknown if k not in OWN_KEYS]
    if foreign:
        findings.append(warning(
            SKILL_FILE, _key_line(lines, foreign[0]),
            f"frontmatter key{'s' if len(foreign) > 1 else ''} {', '.join(foreign)} "
            f"{'are' if len(foreign) > 1 else 'is'} not Claude Code's: it ignores them and "
            "portable packaging refuses them; move them under metadata", "frontmatter"))
    for rule in skill.allowed_tools:
        if tool_name(rule) in UNSUPPORTED_TOOLS:
            findings.append(warning(
                SKILL_FILE, _key_line(lines, "allowed-tools"),
                f"allowed-tools names {tool_name(rule)}, which sagaflow does not provide (the "
                "model is told so and works without it)", "frontmatter"))
    metadata = skill.frontmatter.get("metadata")
    own = metadata.get("sagaflow") if isinstance(metadata, dict) else None
    if isinstance(own, dict):
        findings += _own_options(own, lines)
    return findings


def _own_options(own: dict[str, Any], lines: list[str]) -> list[Finding]:
    findings = []
    for key, value in own.items():
        line = _key_line(lines, str(key))
        if key not in OWN_KEYS:
            findings.append(warning(SKILL_FILE, line, f"metadata.sagaflow.{key} is not a "
                                    f"sagaflow option (known: {', '.join(OWN_KEYS)})",
                                    "frontmatter"))
            continue
        if key == "tier":
            ok = str(value).upper() in TIERS
        else:
            ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        if not ok:
            findings.append(error(SKILL_FILE, line, f"metadata.sagaflow.{key} is {value!r}; "
                                  f"it must be {OWN_KEYS[key]}, or every launch fails",
                                  "frontmatter"))
    return findings


def _body(skill: SkillMd, lines: list[str]) -> list[Finding]:
    start = _body_start(lines)
    body = "\n".join(lines[start - 1:])
    prose = _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), body)
    findings, seen = [], set()
    for match in _NAMED.finditer(prose):
        name = match.group(1)
        if name == "ARGUMENTS" or name.isupper() or name in MONEY or name in seen:
            continue  # $ARGUMENTS is substituted; upper-case names are environment variables
        seen.add(name)
        line = start + prose.count("\n", 0, match.start())
        findings.append(warning(
            SKILL_FILE, line,
            f"${name} is never substituted: a SKILL.md body gets only $ARGUMENTS, "
            f"$ARGUMENTS[N] and $N, so the model reads '${name}' as written; use $ARGUMENTS "
            f"or $0, or launch with --{name.replace('_', '-')} VALUE (the model gets it as a "
            f"'{name.replace('_', '-')}: VALUE' line) and name it in words", "skill-argument"))
    hint = skill.argument_hint.strip()
    if hint:
        words = len(_HINT_WORD.findall(hint)) or len(hint.split())
        for match in _INDEXED.finditer(body):
            index = int(match.group(1) or match.group(2))
            if index >= words and f"#{index}" not in seen:
                seen.add(f"#{index}")
                line = start + body.count("\n", 0, match.start())
                findings.append(warning(
                    SKILL_FILE, line,
                    f"{match.group(0)} is word {index + 1} of the launch text, but "
                    f"argument-hint {hint!r} announces {words}; a launch that follows the hint "
                    f"leaves '{match.group(0)}' as written: add it to argument-hint or use "
                    "$ARGUMENTS", "skill-argument"))
    return findings
