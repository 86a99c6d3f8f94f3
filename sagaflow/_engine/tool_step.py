"""``spawn_subagent(..., tools_needed=True)``: a tool loop inside the step's one activity.

The durable design: the step stays ONE ``spawn_subagent`` activity (the skill's workflow
issues the same commands as before, so runs in flight and recorded histories replay
unchanged), and inside it a loop of model turns and tool calls is checkpointed in a
transcript file in the run directory, ``steps/<activity>-<role>.tools.jsonl``
(:mod:`sagaflow.agent.transcript`'s format). Every model turn and every tool result is
appended (fsynced) before the next begins; a retried attempt (the worker died; the
activity heartbeats throughout, so that is noticed within the interceptor's heartbeat
cap) reads the file and reuses each turn and each tool result already there: no paid
turn is asked again and no completed tool call runs again. Only a call whose result was
not yet written when the worker died runs again.

The tools are the agent loop's file, shell and web tools with Claude Code's names and
input shapes (Read, Write, Edit, Glob, Grep, Bash, WebFetch;
:data:`sagaflow.agent.tools.TOOL_SCHEMAS`), run by :func:`sagaflow.agent.tools.execute`
in the run's workspace (the launch directory, :attr:`RunConfig.workspace`; the run
directory when the run has none) and reading the skill's directory, under the same
permission rules as SKILL.md runs (Claude Code's settings of the workspace and
config.yaml's ``permissions:``). With no rule, Read/Glob/Grep run and Bash, Write and
Edit would ask: a step cannot park for a human inside its activity, so such a call goes
back to the model as a tool error saying which allow rule would let it run.

The step's usage is the sum of every turn in the transcript (each paid turn counted
once, whichever attempt paid it), so the run's budget and ``show`` count it like any
model step; the final text is the step's reply (structured output, or ``output_schema``
validation with its one repair turn, which continues the same conversation).

With the ``claude`` transport the step is one ``claude -p`` session in the workspace with
Claude Code's own tools and the run's allow rules pre-approved (one checkpoint: a crash
reruns the session), as SKILL.md runs do on that transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio import activity

from sagaflow.agent import transcript
from sagaflow.errors import ModelError
from sagaflow.models import INCOMPLETE, ModelReply
from sagaflow.pricing import USAGE_KEYS

if TYPE_CHECKING:
    from sagaflow._engine.meta import RunConfig
    from sagaflow._engine.seeds import SpawnSubagentInput

#: model turns one ``tools_needed`` step may take before it fails (not retried)
MAX_TURNS = 40

Converse = Callable[..., Awaitable[Any]]


def _default_converse() -> Converse:
    from sagaflow.models.turns import converse

    return converse


def for_step(
    inp: SpawnSubagentInput, run: RunConfig, path: Path, model: str, run_id: str,
    run_dir: Path, converse: Converse | None = None,
) -> ToolSession | None:
    """The tool loop of a ``tools_needed=True`` step (None: one plain model call).

    ``path`` is its transcript; the workspace is ``run.workspace`` or else ``run_dir``.
    """
    if not inp.tools_needed:
        return None
    return ToolSession(
        path, transport=run.transport, model=model, max_tokens=inp.max_tokens,
        skill_dir=run.skill_dir, workspace=run.workspace or str(run_dir),
        permissions=run.permissions, run_id=run_id, converse=converse,
    )


class ToolSession:
    """One ``tools_needed`` step's conversation, resumable from its transcript file.

    Args:
        path: The transcript file (``steps/<activity>-<role>.tools.jsonl``).
        transport, model, max_tokens, skill_dir: The model call's settings.
        workspace: Where the file tools work (absolute).
        permissions: config.yaml's ``permissions:`` lists.
        run_id: The run (tool messages and logs).
        converse: The model call (default :func:`sagaflow.models.turns.converse`).
    """

    def __init__(
        self, path: Path, *, transport: str, model: str, max_tokens: int, skill_dir: str,
        workspace: str, permissions: dict[str, list[str]], run_id: str,
        converse: Converse | None = None,
    ) -> None:
        self.path = path
        self.transport, self.model, self.max_tokens = transport, model, max_tokens
        self.skill_dir, self.workspace, self.run_id = skill_dir, workspace, run_id
        self.permissions = permissions
        self.converse = converse or _default_converse()
        self.turn = 0  # the last model turn in the transcript

    def _found(self) -> dict[tuple[int, str], dict[str, Any]]:
        return transcript.entries(self.path)

    async def ask(self, system: str, user: str) -> ModelReply:
        """The step's reply: the first message is ``user``; later calls (the schema's repair
        turn) continue the same conversation with ``user`` as the next user message."""
        if self.transport == "claude":  # Claude Code's own tools: one session, one checkpoint
            return await self._claude(system, user)
        found = await asyncio.to_thread(self._found)
        if (0, "user") not in found:
            await asyncio.to_thread(transcript.append, self.path,
                                    {"turn": 0, "role": "system", "system": system})
            await asyncio.to_thread(transcript.append, self.path,
                                    {"turn": 0, "role": "user", "content": user})
            found = await asyncio.to_thread(self._found)
        elif self.turn:  # a repair turn: the next user message (once, even after a retry)
            key = (self.turn + 1, "user")
            if key not in found:
                entry = {"turn": self.turn + 1, "role": "user", "content": user}
                await asyncio.to_thread(transcript.append, self.path, entry)
                found[key] = entry
        return await self._loop(found)

    async def _loop(self, found: dict[tuple[int, str], dict[str, Any]]) -> ModelReply:
        from sagaflow.agent.tools import TOOL_SCHEMAS

        system = str(found[(0, "system")]["system"])
        tools = list(TOOL_SCHEMAS.values())
        turn = self.turn + 1
        while True:
            if turn > MAX_TURNS:
                raise ModelError(
                    f"The tools_needed step took {MAX_TURNS} model turns without a final "
                    f"answer; ask for less per step (its transcript is {self.path}).",
                    retryable=False,
                )
            done = found.get((turn, "assistant"))
            if done is None:  # not asked (paid) yet
                done = await self._model_turn(turn, system, tools, found)
            self.turn = turn
            uses = [b for b in done["content"] if b.get("type") == "tool_use"]
            if not uses:
                return self._reply(found, done)
            blocks = [await self._tool(turn + 1, use, found) for use in uses]
            entry = {"turn": turn + 1, "role": "user", "content": blocks}
            if (turn + 1, "user") not in found:
                await asyncio.to_thread(transcript.append, self.path, entry)
                found[(turn + 1, "user")] = entry
            turn += 1

    async def _model_turn(
        self, turn: int, system: str, tools: list[dict[str, Any]],
        found: dict[tuple[int, str], dict[str, Any]],
    ) -> dict[str, Any]:
        reply = await self.converse(
            self.transport, model=self.model, system=system,
            messages=transcript.messages(found, turn), tools=tools,
            max_tokens=self.max_tokens,
            skill_dir=Path(self.skill_dir) if self.skill_dir else None,
        )
        if reply.stop_reason == INCOMPLETE:
            raise ModelError(f"Model turn {turn}'s reply stream was cut; will retry.",
                             retryable=True)
        entry = {"turn": turn, "role": "assistant", "content": reply.content,
                 "stop_reason": reply.stop_reason, "model": reply.model,
                 "transport": reply.transport,
                 "usage": {k: int(reply.usage.get(k) or 0) for k in USAGE_KEYS}}
        await asyncio.to_thread(transcript.append, self.path, entry)
        found[(turn, "assistant")] = entry
        return entry

    async def _tool(
        self, turn: int, use: dict[str, Any], found: dict[tuple[int, str], dict[str, Any]],
    ) -> dict[str, Any]:
        """The ``tool_result`` block of one call: from the transcript, or run now."""
        key = (turn, f"result:{use.get('id')}")
        kept = found.get(key)
        if kept is not None:
            return dict(kept["block"])
        from sagaflow.agent.tools import ToolCall, execute

        name = str(use.get("name"))
        call = ToolCall(
            run_id=self.run_id, tool_use_id=str(use.get("id")), name=name,
            input=dict(use.get("input") or {}), workspace=self.workspace,
            skill_dir=self.skill_dir, rules=await asyncio.to_thread(self._rules),
        )
        activity.logger.info("tools_needed step: %s %s", name, call.tool_use_id)
        outcome = await execute(call)
        content, is_error = outcome.content, outcome.is_error
        if outcome.needs_approval:
            content, is_error = (
                f"{outcome.needs_approval} needs a human's approval, which a spawn_subagent "
                f"step cannot ask for; it runs only when allowed (a 'permissions: allow:' rule "
                f"in config.yaml, or the workspace's .claude/settings.json). Do without it.",
                True,
            )
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.tool_use_id,
                                 "content": content}
        if is_error:
            block["is_error"] = True
        await asyncio.to_thread(transcript.append, self.path,
                                {"turn": turn, "role": key[1], "block": block})
        found[key] = {"block": block}
        return block

    async def _claude(self, system: str, user: str) -> ModelReply:
        from sagaflow.models import claude_cli

        rules = await asyncio.to_thread(self._rules)
        return await claude_cli.call_agent(
            model=self.model, system=system, user=user, cwd=self.workspace,
            allowed_tools=list(rules.allow), max_turns=MAX_TURNS,
        )

    def _rules(self) -> Any:
        from sagaflow.agent.permissions import load_rules

        return load_rules(self.workspace, None, (), config_permissions=self.permissions or None)

    def _reply(self, found: dict[tuple[int, str], dict[str, Any]],
               last: dict[str, Any]) -> ModelReply:
        """The final turn's text, with the usage of every turn in the transcript."""
        usage = {key: 0 for key in USAGE_KEYS}
        for (_turn, role), entry in found.items():
            if role == "assistant":
                for key in USAGE_KEYS:
                    usage[key] += int((entry.get("usage") or {}).get(key) or 0)
        text = "".join(str(b.get("text", "")) for b in last["content"]
                       if b.get("type") == "text")
        return ModelReply(text=text, model=str(last.get("model") or self.model),
                          transport=str(last.get("transport") or self.transport),
                          usage=usage, stop_reason=str(last.get("stop_reason") or ""))
