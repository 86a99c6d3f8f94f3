"""Test-only stand-in of the tools contract (see sitecustomize.py): Read, Write, Glob,
Grep and Bash inside the workspace, and allow/ask/deny rules reduced to what the
agent tests use. Loaded as sagaflow.agent.tools, .tools.activity and .permissions."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from temporalio import activity


def _schema(name: str, props: dict[str, str], required: list[str]) -> dict[str, Any]:
    return {"name": name, "description": f"{name} (test stand-in)", "input_schema": {
        "type": "object", "properties": {k: {"type": v} for k, v in props.items()},
        "required": required}}


TOOL_SCHEMAS: dict[str, dict[str, Any]] = {
    "Read": _schema("Read", {"file_path": "string"}, ["file_path"]),
    "Write": _schema("Write", {"file_path": "string", "content": "string"},
                     ["file_path", "content"]),
    "Glob": _schema("Glob", {"pattern": "string", "path": "string"}, ["pattern"]),
    "Grep": _schema("Grep", {"pattern": "string", "path": "string"}, ["pattern"]),
    "Bash": _schema("Bash", {"command": "string"}, ["command"]),
}


@dataclass(frozen=True)
class PermissionRules:
    allow: tuple[str, ...] = ()
    ask: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@dataclass
class ToolCall:
    run_id: str
    tool_use_id: str
    name: str
    input: dict[str, Any]
    workspace: str
    skill_dir: str
    rules: PermissionRules = field(default_factory=PermissionRules)
    approved: bool = False


@dataclass
class ToolOutcome:
    content: str
    is_error: bool
    needs_approval: str | None = None


def load_rules(workspace: Path, skill_allowed_tools: tuple[str, ...] | list[str],
               extra_allow: tuple[str, ...] | list[str]) -> PermissionRules:
    rules: dict[str, list[str]] = {"allow": [*skill_allowed_tools, *extra_allow], "ask": [],
                                   "deny": []}
    settings = Path(workspace) / ".claude" / "settings.json"
    if settings.is_file():
        perms = json.loads(settings.read_text()).get("permissions", {})
        for kind in rules:
            rules[kind] += list(perms.get(kind, []))
    return PermissionRules(tuple(rules["allow"]), tuple(rules["ask"]), tuple(rules["deny"]))


def _matches(rule: str, name: str, value: dict[str, Any]) -> bool:
    tool, _, spec = rule.partition("(")
    if tool != name:
        return False
    if not spec:
        return True
    spec = spec.rstrip(")")
    command = str(value.get("command", ""))
    return command.startswith(spec[:-2]) if spec.endswith(":*") else command == spec


def decide(rules: PermissionRules, name: str, value: dict[str, Any],
           workspace: str) -> Literal["allow", "ask", "deny"]:
    for kind in ("deny", "ask", "allow"):
        if any(_matches(r, name, value) for r in getattr(rules, kind)):
            return kind  # type: ignore[return-value]
    return "ask" if name in ("Bash", "Write") else "allow"


def _inside(call: ToolCall, raw: str) -> Path:
    path = Path(raw if Path(raw).is_absolute() else Path(call.workspace, raw)).resolve()
    for root in (call.workspace, call.skill_dir):
        if root and path.is_relative_to(Path(root).resolve()):
            return path
    raise PermissionError(f"{raw} is outside the workspace")


@activity.defn(name="sagaflow_run_tool")
async def run_tool(call: ToolCall) -> ToolOutcome:
    verdict = "allow" if call.approved else decide(call.rules, call.name, call.input,
                                                    call.workspace)
    if verdict == "deny":
        return ToolOutcome(f"{call.name} denied by a deny rule", True)
    if verdict == "ask":
        return ToolOutcome("", False, needs_approval=f"{call.name}: {json.dumps(call.input)}")
    try:
        value, root = call.input, Path(call.workspace)
        if call.name == "Read":
            return ToolOutcome(_inside(call, value["file_path"]).read_text(), False)
        if call.name == "Write":
            path = _inside(call, value["file_path"])
            path.write_text(value["content"])
            return ToolOutcome(f"wrote {path}", False)
        if call.name == "Glob":
            found = sorted(str(p) for p in root.glob(value["pattern"]))
            return ToolOutcome("\n".join(found) or "no files", False)
        if call.name == "Grep":
            hits = [f"{p}:{n}:{line}" for p in sorted(root.rglob("*")) if p.is_file()
                    and fnmatch.fnmatch(p.name, value.get("glob", "*"))
                    for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
                    if re.search(value["pattern"], line)]
            return ToolOutcome("\n".join(hits) or "no matches", False)
        if call.name == "Bash":
            proc = subprocess.run(value["command"], shell=True, cwd=root, capture_output=True,
                                  text=True, timeout=60)
            return ToolOutcome(f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}",
                               proc.returncode != 0)
    except (OSError, KeyError) as exc:
        return ToolOutcome(f"{call.name} failed: {exc}", True)
    return ToolOutcome(f"unknown tool {call.name}", True)
