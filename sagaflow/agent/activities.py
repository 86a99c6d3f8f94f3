"""The agent loop's activities, bound methods of one :class:`AgentActivities` per worker.

* ``sagaflow_agent_start(AgentInput, config) -> StartResult`` — reads SKILL.md, writes
  the transcript's system prompt and first user message (once), resolves the run's
  permission rules (:func:`sagaflow.agent.permissions.load_rules`: the skill's
  ``allowed-tools``, Claude Code's settings, ``config["permissions"]`` — config.yaml's
  ``permissions:`` — and ``--allow-tools``) and tool list;
* ``sagaflow_agent_turn(TurnInput, config) -> TurnResult`` — appends the tool results,
  asks the model (:func:`sagaflow.models.turns.converse`), appends its message; a turn
  already in the transcript (the worker died after the model answered) is reused, not
  asked (paid) again. Heartbeats during the whole call;
* ``sagaflow_agent_notice(NoticeInput) -> bool`` — a question's inbox entry (QUESTION,
  with the exact ``sagaflow answer`` command) opened or retired;
* ``sagaflow_agent_tool(ToolCall, results_dir) -> ToolRef`` — one tool call through the
  tools' ``run_tool``; a long output is written to ``results_dir`` and history keeps a
  reference and its first characters (the turn activity reads the file back).

``config`` is the run's configuration from its memo (the engine's ``RunConfig``,
decoded as a mapping: transport, model per tier, prices, skill dir), appended by the
workflow interceptor, so no activity reads the environment to learn it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from sagaflow import inbox
from sagaflow.agent import (
    AGENT_TOOL_ACTIVITY,
    NOTICE_ACTIVITY,
    START_ACTIVITY,
    TURN_ACTIVITY,
    transcript,
)
from sagaflow.agent.schemas import schemas_for, tool_names
from sagaflow.agent.skillmd import read_skillmd, system_prompt, tool_name, user_message
from sagaflow.agent.tools import ToolCall
from sagaflow.agent.types import (
    AgentInput,
    NoticeInput,
    Rules,
    StartResult,
    ToolRef,
    ToolUse,
    TurnInput,
    TurnResult,
    TurnUsage,
)
from sagaflow.errors import ModelError, SagaflowError
from sagaflow.models import INCOMPLETE
from sagaflow.paths import Home
from sagaflow.pricing import USAGE_KEYS, Price, cost_of

QUESTION = "QUESTION"
#: characters of a turn's text kept in history (the whole text is in the transcript)
SUMMARY_CHARS = 600
#: a tool output longer than this goes to a file in the run dir, not to history
INLINE_CHARS = 2000

Converse = Callable[..., Awaitable[Any]]


def _fail(exc: SagaflowError) -> ApplicationError:
    delay = getattr(exc, "retry_after", None)
    return ApplicationError(
        exc.message, type=type(exc).__name__, non_retryable=not exc.retryable,
        next_retry_delay=timedelta(seconds=delay) if delay else None,
    )


async def _beat(interval: float) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(interval)


class AgentActivities:
    """The loop's activities with their dependencies.

    Args:
        home: The sagaflow home (inbox).
        converse: The model call (default :func:`sagaflow.models.turns.converse`);
            tests pass a fake.
        defaults: The worker's run configuration (a mapping like the engine's
            ``RunConfig``) for runs whose memo carries none.
    """

    def __init__(
        self, home: Home, *, converse: Converse | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> None:
        self.home = home
        self.defaults = defaults or {}
        if converse is None:
            from sagaflow.models.turns import converse as real

            converse = real
        self.converse = converse

    def all(self) -> list[Callable[..., Any]]:
        return [self.start, self.turn, self.notice, self.tool]

    @activity.defn(name=START_ACTIVITY)
    async def start(self, inp: AgentInput, config: dict[str, Any] | None = None) -> StartResult:
        """Set the transcript up and resolve the run's tools and permission rules."""
        try:
            return await asyncio.to_thread(self._start, inp, config or self.defaults)
        except SagaflowError as exc:
            raise _fail(exc) from None

    def _start(self, inp: AgentInput, config: dict[str, Any]) -> StartResult:
        from sagaflow.agent.permissions import load_rules

        skill = read_skillmd(Path(inp.skill_dir))
        path = transcript.path_for(
            inp.run_dir, f"task-{inp.parent_tool_use_id}.jsonl" if inp.parent_tool_use_id
            else transcript.FILE)
        found = transcript.entries(path, upto=0)
        if (0, "user") not in found:
            if inp.prompt:  # a Task sub-agent: its own prompt, the skill as context
                system = system_prompt(skill, "", inp.workspace)
                first = inp.prompt
            else:
                system = system_prompt(skill, inp.arguments, inp.workspace)
                first = user_message(inp.arguments, inp.options)
            transcript.append(path, {"turn": 0, "role": "system", "system": system})
            transcript.append(path, {"turn": 0, "role": "user", "content": first})
        permissions = config.get("permissions") or {}  # config.yaml's, from the run's memo
        rules = load_rules(Path(inp.workspace), skill.allowed_tools, tuple(inp.allow_tools),
                           config_permissions=permissions if isinstance(permissions, dict)
                           else None)
        servers = sorted({tool_name(r).split("__")[1] for r in skill.allowed_tools
                          if tool_name(r).startswith("mcp__") and r.count("__") >= 1})
        return StartResult(
            transcript=str(path), tools=tool_names(),
            rules=Rules(list(rules.allow), list(rules.ask), list(rules.deny)),
            mcp_servers=servers,
        )

    @activity.defn(name=TURN_ACTIVITY)
    async def turn(self, inp: TurnInput, config: dict[str, Any] | None = None) -> TurnResult:
        """One model turn (see the module docstring)."""
        config = config or self.defaults
        info = activity.info()
        timeout = info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else 4.0
        beat = asyncio.create_task(_beat(max(0.2, min(1.0, timeout / 4))))
        try:
            return await self._turn(inp, config, info.attempt)
        except SagaflowError as exc:
            raise _fail(exc) from None
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _turn(self, inp: TurnInput, config: dict[str, Any], attempt: int) -> TurnResult:
        path = Path(inp.transcript)
        found = await asyncio.to_thread(transcript.entries, path, inp.turn)
        if inp.results and (inp.turn, "user") not in found:
            entry = {"turn": inp.turn, "role": "user",
                     "content": transcript.result_blocks(inp.results)}
            await asyncio.to_thread(transcript.append, path, entry)
            found[(inp.turn, "user")] = entry
        done = found.get((inp.turn, "assistant"))
        if done is None:
            done = await self._ask(inp, config, found, attempt)
            size = await asyncio.to_thread(transcript.append, path, done)
        else:
            size = path.stat().st_size
        content = done["content"]
        text = "".join(str(b.get("text", "")) for b in content if b.get("type") == "text")
        uses = [ToolUse(str(b["id"]), str(b["name"]), dict(b.get("input") or {}))
                for b in content if b.get("type") == "tool_use"]
        return TurnResult(
            turn=inp.turn, text=text[:SUMMARY_CHARS], tool_uses=uses,
            stop_reason=str(done.get("stop_reason", "")),
            usage=TurnUsage(**done["usage"]), transcript_bytes=size,
        )

    async def _ask(
        self, inp: TurnInput, config: dict[str, Any], found: dict[tuple[int, str], Any],
        attempt: int,
    ) -> dict[str, Any]:
        transport = str(config.get("transport") or "auto")
        models = config.get("models") or {}
        model = str(models.get(inp.tier_name.upper()) or models.get(inp.tier_name) or "")
        if not model and transport != "scripted":
            raise ModelError(f"No model is configured for tier {inp.tier_name!r}; add it under "
                             "models: in config.yaml.", retryable=False)
        skill_dir = inp.skill_dir or str(config.get("skill_dir") or "")
        started = time.monotonic()
        if transport == "claude":  # the whole skill as one Claude Code session
            reply = await _whole_skill(inp, model, found)
        else:
            reply = await self.converse(
            transport, model=model, system=str(found[(0, "system")]["system"]),
            messages=transcript.messages(found, inp.turn), tools=schemas_for(inp.tools),
            max_tokens=inp.max_tokens, skill_dir=Path(skill_dir) if skill_dir else None,
            )
        if reply.stop_reason in ("max_tokens", "refusal", INCOMPLETE):
            why = {"max_tokens": "was cut at max_tokens (raise --max-tokens or metadata.sagaflow."
                                 "max-tokens)",
                   "refusal": "was a refusal", INCOMPLETE: "stream was cut; will retry"}
            raise ModelError(f"Model turn {inp.turn}'s reply {why[reply.stop_reason]}.",
                             retryable=reply.stop_reason == INCOMPLETE)
        prices = {m: Price(**p) if isinstance(p, dict) else p
                  for m, p in (config.get("prices") or {}).items()}
        usage = TurnUsage(
            model=reply.model, transport=reply.transport, tier=inp.tier_name,
            seconds=round(time.monotonic() - started, 3), attempt=attempt,
            cost_usd=cost_of(reply.model, reply.usage, prices or None),
            stop_reason=reply.stop_reason,
            **{k: int(reply.usage.get(k, 0)) for k in USAGE_KEYS},
        )
        return {"turn": inp.turn, "role": "assistant", "content": reply.content,
                "stop_reason": reply.stop_reason, "usage": asdict(usage)}

    @activity.defn(name=NOTICE_ACTIVITY)
    async def notice(self, inp: NoticeInput) -> bool:
        """Open or retire a question's inbox entry."""
        if not inp.opened:
            return await asyncio.to_thread(inbox.retire, self.home.inbox, inp.run_id, QUESTION,
                                           inp.key)
        lines = [inp.question, ""]
        lines += [f"  {i}. {choice}" for i, choice in enumerate(inp.choices, start=1)]
        lines.append(f"answer: sagaflow answer {inp.run_id} \"...\"")
        if inp.choices:
            lines.append(f"   or, by the option's number:  sagaflow answer {inp.run_id} --choice 1")
        entry = inbox.Entry(
            run_id=inp.run_id, status=QUESTION, skill=inp.skill, summary="\n".join(lines),
            timestamp=inp.timestamp_iso, key=inp.key, note="waiting on an answer",
        )
        return await asyncio.to_thread(inbox.append, self.home.inbox, entry)

    @activity.defn(name=AGENT_TOOL_ACTIVITY)
    async def tool(self, call: ToolCall, results_dir: str) -> ToolRef:
        """Run one tool call (the tools' ``run_tool``); output over :data:`INLINE_CHARS`
        goes to ``results_dir/<tool_use_id>.txt`` and only a reference to history."""
        from sagaflow.agent.tools.activity import run_tool

        outcome = await run_tool(call)
        content = outcome.content
        if len(content) <= INLINE_CHARS:
            return ToolRef(content, outcome.is_error, needs_approval=outcome.needs_approval)
        path = Path(results_dir) / f"{call.tool_use_id}.txt"
        await asyncio.to_thread(_write, path, content)
        return ToolRef(content[:INLINE_CHARS], outcome.is_error, str(path),
                       outcome.needs_approval)


async def _whole_skill(inp: TurnInput, model: str, found: dict[tuple[int, str], Any]) -> Any:
    """The ``claude`` transport: one ``claude -p`` session runs the skill with its own tools."""
    from sagaflow.models import claude_cli
    from sagaflow.models.turns import TurnReply

    first = found[(0, "user")]["content"]
    reply = await claude_cli.call_agent(
        model=model, system=str(found[(0, "system")]["system"]),
        user=first if isinstance(first, str) else json.dumps(first),
        cwd=inp.workspace, allowed_tools=list(inp.allow), max_turns=inp.max_turns,
    )
    return TurnReply(content=[{"type": "text", "text": reply.text}], model=reply.model,
                     transport="claude", usage=reply.usage, stop_reason=reply.stop_reason
                     or "end_turn")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)
