"""The body of ``spawn_subagent``: one model call, its files, its typed result.

The result, :class:`ModelStepResult`, is what history records for a model step:
the parsed output next to its :class:`StepUsage` (tokens, cost, model, where it
ran). The workflow interceptor records the usage in the run control and gives
the skill ``output``; ``show`` and ``tail`` read the same shape back from history
(:mod:`sagaflow.runs.historyfold`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from temporalio import activity

from sagaflow.errors import PromptError
from sagaflow.models import ModelReply
from sagaflow.models.structured import parse_structured
from sagaflow.paths import Home
from sagaflow.pricing import USAGE_KEYS, cost_of

if TYPE_CHECKING:
    from sagaflow._engine.activities import SpawnSubagentInput
    from sagaflow._engine.meta import RunConfig

#: which worker process made the call (shown per step; pools spread steps over hosts)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class CompleteFn(Protocol):
    """A model transport call; the default is :func:`sagaflow.models.complete`."""

    async def __call__(
        self, transport: str, *, model: str, system: str, user: str, max_tokens: int,
        skill_dir: Path | None = None,
    ) -> ModelReply: ...


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

    def tokens(self) -> dict[str, int]:
        """Token counts keyed by :data:`sagaflow.pricing.USAGE_KEYS`."""
        return {key: int(getattr(self, key)) for key in USAGE_KEYS}


#: the key of the result envelope sagaflow 0.1 wrote (decoded for runs started before an upgrade)
LEGACY_ENVELOPE_KEY = "sagaflow_step"


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
        from temporalio.converter import value_to_type

        if isinstance(raw, dict) and LEGACY_ENVELOPE_KEY in raw:
            usage = raw.get(LEGACY_ENVELOPE_KEY) or {}
            known = {f.name for f in fields(StepUsage)}
            raw = {
                "output": raw.get("value") or {},
                "usage": {"model": "", "transport": "", **{
                    k: v for k, v in usage.items() if k in known and v is not None
                }},
            }
        result = value_to_type(cls, raw)
        if not isinstance(result, cls):  # pragma: no cover - value_to_type raises first
            raise TypeError(f"not a model step result: {raw!r:.200}")
        return result


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "step"


async def run_model_step(
    inp: SpawnSubagentInput, run: RunConfig, *, home: Home, complete: CompleteFn,
    run_id: str, activity_id: str, attempt: int, worker: str = WORKER_ID,
) -> ModelStepResult:
    """Call the run's model transport and save the full reply in the run dir.

    Writes ``runs/<run_id>/steps/<activity>-<role>.response.md`` (or
    ``inp.output_path``) and a ``.json`` beside it with the usage.

    Raises:
        PromptError: the user prompt file cannot be read (not retryable).
        ConfigError: the tier is unknown to the run's configuration.
        ModelError, TransportError: from the transport (retryable or not).
    """
    model = run.model_for(inp.tier_name)
    try:  # file I/O in a thread: the loop keeps every activity's heartbeats going
        user = await asyncio.to_thread(Path(inp.user_prompt_path).read_text, encoding="utf-8")
    except OSError as exc:
        raise PromptError(
            f"Cannot read the user prompt {inp.user_prompt_path}: {exc.strerror}; "
            "write it (write_artifact) before spawn_subagent."
        ) from None
    activity.logger.info("model call: role %s, tier %s, model %s, transport %s",
                         inp.role, inp.tier_name, model, run.transport)
    started = time.monotonic()
    reply = await complete(
        run.transport, model=model, system=inp.system_prompt, user=user,
        max_tokens=inp.max_tokens, skill_dir=Path(run.skill_dir) if run.skill_dir else None,
    )
    steps = home.run_dir(run_id) / "steps"
    base = f"{_safe(activity_id)}-{_safe(inp.role)}"
    response = Path(inp.output_path) if inp.output_path else steps / f"{base}.response.md"
    await asyncio.to_thread(_write, response, reply.text)
    cost = 0.0 if reply.transport == "scripted" else cost_of(
        reply.model or model, reply.usage, run.prices
    )
    usage = StepUsage(
        model=reply.model, transport=reply.transport, role=inp.role, tier=inp.tier_name,
        seconds=round(time.monotonic() - started, 3), attempt=attempt, worker=worker,
        cost_usd=cost, **{key: int(reply.usage.get(key) or 0) for key in USAGE_KEYS},
    )
    tokens = usage.tokens()
    record = {k: v for k, v in asdict(usage).items() if k not in tokens}
    record |= {"usage": tokens, "response_path": str(response)}
    await asyncio.to_thread(_write, steps / f"{base}.json", json.dumps(record, indent=2))
    activity.logger.info(
        "model reply: %s input / %s output tokens, cost_usd %s, %ss",
        usage.input_tokens, usage.output_tokens, cost, usage.seconds,
    )
    output = await asyncio.to_thread(parse_structured, reply.text)  # megabytes of reply: a thread
    return ModelStepResult(output=output, usage=usage)
