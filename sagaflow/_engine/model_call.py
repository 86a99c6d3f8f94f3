"""The body of ``spawn_subagent``: one model call, its files, its typed result.

The result, :class:`ModelStepResult`, is what history records for a model step:
the parsed output next to its :class:`StepUsage` (tokens, cost, model, where it
ran). The workflow interceptor records the usage in the run control and gives
the skill ``output``; ``show`` and ``tail`` read the same shape back from history
(:mod:`sagaflow.runs.historyfold`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import socket
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from temporalio import activity

from sagaflow._engine import schema_output, tool_step
from sagaflow._engine.compat_seeds import step_notes
from sagaflow._engine.confine import confine, write_atomically
from sagaflow._engine.typed_decode import to_type
from sagaflow.errors import ModelError, PromptError
from sagaflow.models import INCOMPLETE, ModelReply
from sagaflow.models.structured import last_block, parse_structured
from sagaflow.paths import Home
from sagaflow.pricing import USAGE_KEYS, cost_of
from sagaflow.wiretypes import wire

if TYPE_CHECKING:
    from sagaflow._engine.meta import RunConfig
    from sagaflow._engine.seeds import SpawnSubagentInput

#: which worker process made the call (shown per step; pools spread steps over hosts)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class CompleteFn(Protocol):
    """A model transport call; the default is :func:`sagaflow.models.complete`."""

    async def __call__(
        self, transport: str, *, model: str, system: str, user: str, max_tokens: int,
        skill_dir: Path | None = None,
    ) -> ModelReply: ...


@wire
@dataclass(frozen=True)
class StepUsage:
    """What one model call used and where it ran.

    Attributes:
        model: The model id the provider reported.
        transport: ``anthropic``, ``claude`` or ``scripted``.
        role: The step's role (``SpawnSubagentInput.role``).
        tier: The tier asked for (``HAIKU``...).
        seconds: Wall time of the call.
        attempt: Temporal's attempt number (1 = first try).
        worker: ``host:pid`` of the worker process.
        cost_usd: USD, or None when the model has no price.
        retried_cost_usd: USD billed for earlier attempts of this step whose replies
            could not be used (empty, cut, truncated...; their step files keep each).
        stop_reason: Why the model stopped (``end_turn``, ``max_tokens``...; see
            :class:`~sagaflow.models.ModelReply`); "" in histories recorded before it existed.
        input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens:
            Token counts (the keys of :data:`sagaflow.pricing.USAGE_KEYS`).
    """

    model: str
    transport: str
    role: str = ""
    tier: str = ""
    seconds: float = 0.0
    attempt: int = 1
    worker: str = ""
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    stop_reason: str = ""
    retried_cost_usd: float = 0.0

    def tokens(self) -> dict[str, int]:
        """Token counts keyed by :data:`sagaflow.pricing.USAGE_KEYS`."""
        return {key: int(getattr(self, key)) for key in USAGE_KEYS}


#: the key of the result envelope sagaflow 0.1 wrote (decoded for runs started before an upgrade)
LEGACY_ENVELOPE_KEY = "sagaflow_step"


@wire
@dataclass(frozen=True)
class ModelStepResult:
    """``spawn_subagent``'s result as history records it.

    Attributes:
        output: The parsed structured output (``KEY -> value``; see
            :mod:`sagaflow.models.structured`); what the skill receives.
        usage: Tokens, cost and provenance of the call.

    Both fields are required: a value of any other shape fails to decode loudly
    instead of handing the skill an empty output (see :meth:`from_history`).
    """

    output: dict[str, str]
    usage: StepUsage

    @classmethod
    def from_history(cls, raw: object) -> ModelStepResult:
        """Decode a model step's result as JSON-decoded from history (``ret_type=None``).

        Accepts this shape and the ``{"sagaflow_step": usage, "value": output}``
        envelope that sagaflow 0.1 wrote, so runs started before an upgrade finish.

        Raises:
            TypeError: ``raw`` is neither shape (the step fails loudly rather than
                handing the skill an empty output).
        """
        if isinstance(raw, dict) and LEGACY_ENVELOPE_KEY in raw:
            usage = raw.get(LEGACY_ENVELOPE_KEY) or {}
            known = {f.name for f in fields(StepUsage)}
            raw = {
                "output": raw.get("value") or {},
                "usage": {"model": "", "transport": "", **{
                    k: v for k, v in usage.items() if k in known and v is not None
                }},
            }
        result = to_type(cls, raw)
        if not isinstance(result, cls):  # pragma: no cover - to_type raises first
            raise TypeError(f"not a model step result: {raw!r:.200}")
        return result


#: the most the parsed output of one step may take in history (JSON bytes); Temporal warns
#: at 256 KB per payload and fails at 2 MB, and a failed result would be retried (paid) again
MAX_OUTPUT_BYTES = 256 * 1024


def reply_problem(reply: ModelReply, inp: SpawnSubagentInput, response: Path) -> ModelError | None:
    """Why a reply that arrived cannot be the step's result (None: it can).

    * ``refusal``: the model declined — not retryable;
    * :data:`~sagaflow.models.INCOMPLETE` (stream cut before ``message_stop``) — retryable;
    * ``max_tokens`` before a complete structured block — retryable only when
      ``inp.retry_truncated``;
    * an empty reply — retryable (not for scripted replies: they would repeat it);
    * a structured output over :data:`MAX_OUTPUT_BYTES` — not retryable.
    """
    stop = reply.stop_reason
    if stop == "refusal":
        said = reply.text.strip().replace("\n", " ")[:200]
        return ModelError(
            f"The model declined: {said or 'it gave no reason (stop_reason refusal)'}; "
            "rephrase the skill's prompt.", retryable=False,
        )
    if stop == INCOMPLETE:
        return ModelError(
            "The model's reply stream ended without message_stop (cut off in transit); "
            "will retry.", retryable=True,
        )
    if stop == "max_tokens" and inp.reply_as:  # a text or JSON reply cut short is unusable
        again = "will retry" if inp.retry_truncated else "not retrying (retry_truncated is off)"
        return ModelError(
            f"The model reached max_tokens={inp.max_tokens} before finishing its reply; raise "
            f"max_tokens for role {inp.role or '?'} or ask for a shorter reply ({again}; the "
            f"partial reply is in {response}).", retryable=inp.retry_truncated,
        )
    if stop == "max_tokens" and last_block(reply.text) is None:
        again = "will retry" if inp.retry_truncated else "not retrying (retry_truncated is off)"
        return ModelError(
            f"The model reached max_tokens={inp.max_tokens} before its structured output "
            f"block; raise max_tokens for role {inp.role or '?'} or shorten the reply asked "
            f"for ({again}; the partial reply is in {response}).",
            retryable=inp.retry_truncated,
        )
    if not reply.text.strip():
        if reply.transport == "scripted":
            return ModelError(
                "The scripted reply that matched is empty; give its rule a 'reply:' text.",
                retryable=False,
            )
        return ModelError(
            f"The model returned an empty reply (stop_reason {stop or 'unknown'}); will retry.",
            retryable=True,
        )
    return None


def _oversized(output: dict[str, str], response: Path) -> ModelError | None:
    size = len(json.dumps(output).encode("utf-8"))
    if size <= MAX_OUTPUT_BYTES:
        return None
    biggest = max(output, key=lambda k: len(output[k]))
    return ModelError(
        f"The step's structured output is {size // 1024} KB (largest field {biggest}), over "
        f"the {MAX_OUTPUT_BYTES // 1024} KB sagaflow keeps in Temporal's history; ask for "
        f"short fields and read long text from the reply file {response} "
        "(SpawnSubagentInput.output_path).", retryable=False,
    )


def _earlier_cost(steps: Path, base: str, attempt: int) -> float:
    """USD of this step's earlier attempts that were billed and failed (their step files)."""
    total = 0.0
    for n in range(1, attempt):
        try:
            cost = json.loads((steps / f"{base}.attempt{n}.failed.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        value = cost.get("cost_usd") if isinstance(cost, dict) else None
        total += float(value) if isinstance(value, int | float) else 0.0
    return round(total, 9)


@functools.lru_cache(maxsize=256)
def _dirs(home: Home, run_id: str) -> tuple[Path, Path]:
    """A run's directory and its ``steps/``, checked and built once per run, not per step
    (``pathlib`` joins cost microseconds each, on the event loop)."""
    run_dir = home.run_dir(run_id)
    return run_dir, run_dir / "steps"


#: the skill directory's Path per string (the scripted transport keys its cache by it)
_path = functools.lru_cache(maxsize=64)(Path)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "step"


def _settle(
    inp: SpawnSubagentInput, text: str, usage: StepUsage, response: Path, steps: Path,
    base: str, attempt: int, output: dict[str, str] | None, problem: ModelError | None,
) -> tuple[dict[str, str], ModelError | None]:
    """Write the reply to ``response`` and the step's record in ``steps``
    (``<base>.json``, or ``<base>.attempt<N>.failed.json`` with the problem); parse the
    output unless given (megabytes of reply: callers run this in a thread).

    Returns:
        The output (``{}`` when the step failed) and the problem, if any (an oversized
        output is one).

    Raises:
        OSError: a file cannot be written.
    """
    write_atomically(response, text)
    if output is None:
        output = {} if problem else parse_structured(text)
    problem = problem or _oversized(output, response)
    tokens = usage.tokens()
    # StepUsage's fields are plain values: asdict would deep-copy each one for nothing
    record = {f.name: getattr(usage, f.name) for f in fields(usage) if f.name not in tokens}
    record |= {"usage": tokens, "response_path": str(response)}
    if step_notes(inp):
        record["notes"] = step_notes(inp)
    if problem is not None:
        record["error"] = problem.message
    # a failed attempt keeps its own file: each paid call stays costed when retries follow
    name = f"{base}.json" if problem is None else f"{base}.attempt{attempt}.failed.json"
    write_atomically(steps / name, json.dumps(record, indent=2))
    return output, problem


#: ``SpawnSubagentInput.reply_as`` values (see there)
REPLY_AS = ("", "text", "json")


def _check_shape(inp: SpawnSubagentInput) -> None:
    """One prompt source and a known ``reply_as`` (PromptError, not retryable)."""
    if bool(inp.user_prompt) == bool(inp.user_prompt_path):
        raise PromptError(
            f"Step {inp.role or '?'} gives {'both' if inp.user_prompt else 'neither'} "
            "user_prompt and user_prompt_path; give exactly one."
        )
    if inp.reply_as not in REPLY_AS:
        raise PromptError(f"Step {inp.role or '?'}: reply_as {inp.reply_as!r} is not one of "
                          "'', 'text' or 'json'.")
    if inp.reply_as == "json" and inp.output_schema is None:
        raise PromptError(f"Step {inp.role or '?'}: reply_as 'json' needs an output_schema.")


async def _read_prompt(inp: SpawnSubagentInput, run: RunConfig, run_dir: Path) -> str:
    """The user prompt file's text, read from the run dir, allowed roots or skill dir."""
    readable = [*run.allowed_roots, *([run.skill_dir] if run.skill_dir else [])]
    prompt = confine(inp.user_prompt_path, run_dir, readable, what="user prompt path")
    try:
        return await asyncio.to_thread(prompt.read_text, encoding="utf-8")  # off the loop
    except OSError as exc:
        raise PromptError(
            f"Cannot read the user prompt {prompt}: {exc.strerror}; "
            "write it (write_artifact) before spawn_subagent."
        ) from None


def _reply_output(inp: SpawnSubagentInput, text: str) -> dict[str, str]:
    """The output of a ``reply_as`` step: the reply text, or the schema-valid JSON value."""
    if inp.reply_as == "text":
        return {"text": text}
    value, _ = schema_output.extract_json(text)  # already validated against the schema
    return {"json": json.dumps(value)}


async def run_model_step(
    inp: SpawnSubagentInput, run: RunConfig, *, home: Home, complete: CompleteFn,
    run_id: str, activity_id: str, attempt: int, worker: str = WORKER_ID,
    converse: tool_step.Converse | None = None,
) -> ModelStepResult:
    """Call the run's model transport and save the full reply in the run dir.

    Writes ``runs/<run_id>/steps/<activity>-<role>.response.md`` (or
    ``inp.output_path``) and a ``.json`` beside it with the usage, the stop
    reason and, when the reply cannot be the result, ``error``: every reply
    that arrived is costed there, even when the step then fails. With
    ``inp.tools_needed`` the reply comes from a checkpointed tool loop
    (:mod:`sagaflow._engine.tool_step`; its transcript is ``<base>.tools.jsonl`` beside
    the reply) and the usage sums its turns. The prompt is read
    from, and ``output_path`` written to, only the run directory, the run's allowed
    roots and (prompt only) the skill's directory (:mod:`sagaflow._engine.confine`).

    Raises:
        ConfinementError: the prompt or output path leads elsewhere (not retryable).
        PromptError: the user prompt file cannot be read (not retryable).
        ConfigError: the tier is unknown to the run's configuration.
        ModelError, TransportError: from the transport (retryable or not), or a
            reply that cannot be the result (see :func:`reply_problem`).
    """
    model = run.model_for(inp.tier_name)
    run_dir, steps = _dirs(home, run_id)
    _check_shape(inp)
    response = (confine(inp.output_path, run_dir, run.allowed_roots, what="output_path")
                if inp.output_path else None)
    user = inp.user_prompt or await _read_prompt(inp, run, run_dir)
    activity.logger.info("model call: role %s, tier %s, model %s, transport %s",
                         inp.role, inp.tier_name, model, run.transport)
    schema = inp.output_schema
    if schema is not None:
        schema_output.check_schema(schema)
    for note in step_notes(inp):  # noted, never silently dropped (see SpawnSubagentInput)
        activity.logger.warning("role %s: %s", inp.role, note)
    system = inp.system_prompt + (schema_output.instruction(schema) if schema else "")
    base = f"{_safe(activity_id)}-{_safe(inp.role)}"
    session = tool_step.for_step(inp, run, steps / f"{base}.tools.jsonl", model, run_id,
                                 run_dir, converse) if inp.tools_needed else None

    async def ask(text: str) -> ModelReply:
        if session is not None:  # tools_needed: a checkpointed tool loop (tool_step)
            return await session.ask(system, text)
        return await complete(
            run.transport, model=model, system=system, user=text, max_tokens=inp.max_tokens,
            skill_dir=_path(run.skill_dir) if run.skill_dir else None,
        )

    started = time.monotonic()
    reply = await ask(user)
    response = response or steps / f"{base}.response.md"
    problem = reply_problem(reply, inp, response)
    output: dict[str, str] | None = None
    if schema is not None and problem is None:
        async def keep(text: str) -> None:
            await asyncio.to_thread(write_atomically, steps / f"{base}.rejected.response.md", text)

        reply, output, why = await schema_output.ask_with_schema(ask, user, schema, reply, keep)
        problem = reply_problem(reply, inp, response)
        if problem is None and why is not None:
            problem = schema_output.final_error(inp.role, why, str(response.parent))
    cost = 0.0 if reply.transport == "scripted" else cost_of(
        reply.model or model, reply.usage, run.prices
    )
    usage = StepUsage(
        model=reply.model, transport=reply.transport, role=inp.role, tier=inp.tier_name,
        seconds=round(time.monotonic() - started, 3), attempt=attempt, worker=worker,
        cost_usd=cost, stop_reason=reply.stop_reason,
        # a tools_needed step's usage already sums every turn its transcript keeps
        retried_cost_usd=0.0 if session else _earlier_cost(steps, base, attempt),
        **{key: int(reply.usage.get(key) or 0) for key in USAGE_KEYS},
    )
    if problem is None and inp.reply_as:
        output = _reply_output(inp, reply.text)
    # one thread hop for both files and the parse: each hop costs the loop a wake-up
    kept, problem = await asyncio.to_thread(
        _settle, inp, reply.text, usage, response, steps, base, attempt, output, problem)
    activity.logger.info(
        "model reply: %s input / %s output tokens, cost_usd %s, stop %s, %ss",
        usage.input_tokens, usage.output_tokens, cost, usage.stop_reason, usage.seconds,
    )
    if problem is not None:
        problem.paid_usd = (cost or 0.0) + usage.retried_cost_usd or None
        problem.stop_reason = reply.stop_reason
        raise problem
    return ModelStepResult(output=kept, usage=usage)
