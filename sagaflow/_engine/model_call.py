"""The body of ``spawn_subagent``: one model call, its files, its parsed output."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

from temporalio import activity

from sagaflow._engine.activities import SpawnSubagentInput
from sagaflow._engine.meta import ENVELOPE_KEY, ENVELOPE_VALUE
from sagaflow.config import load_settings
from sagaflow.errors import PromptError
from sagaflow.models import choose_transport, complete
from sagaflow.models.structured import parse_structured
from sagaflow.paths import Home
from sagaflow.pricing import cost_of
from sagaflow.runrecord import read_record

USAGE_KEYS = (
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
)


#: which worker process made the call (shown per step; pools spread steps over hosts)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "step"


async def run_model_step(
    inp: SpawnSubagentInput, run_id: str, activity_id: str, attempt: int
) -> dict[str, Any]:
    """Call the run's model transport and save the full reply in the run dir.

    Returns:
        The envelope ``{"sagaflow_step": usage, "value": parsed output}``; the
        worker's interceptor records the usage and hands the skill ``value``.
    """
    home = Home.current()
    settings = load_settings(home)
    record = read_record(home, run_id)
    transport = record.transport if record else choose_transport(settings)
    skill_dir = Path(record.skill_dir) if record else None
    model = settings.model_for(inp.tier_name)
    try:
        user = Path(inp.user_prompt_path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(
            f"Cannot read the user prompt {inp.user_prompt_path}: {exc.strerror}; "
            "write it (write_artifact) before spawn_subagent."
        ) from None
    activity.logger.info("model call: role %s, tier %s, model %s, transport %s",
                         inp.role, inp.tier_name, model, transport)
    started = time.monotonic()
    reply = await complete(
        transport, model=model, system=inp.system_prompt, user=user,
        max_tokens=inp.max_tokens, skill_dir=skill_dir,
    )
    steps = home.run_dir(run_id) / "steps"
    steps.mkdir(parents=True, exist_ok=True)
    base = f"{_safe(activity_id)}-{_safe(inp.role)}"
    response = Path(inp.output_path) if inp.output_path else steps / f"{base}.response.md"
    response.parent.mkdir(parents=True, exist_ok=True)
    response.write_text(reply.text, encoding="utf-8")
    cost = 0.0 if reply.transport == "scripted" else cost_of(
        reply.model or model, reply.usage, settings.prices
    )
    meta = {
        "role": inp.role,
        "tier": inp.tier_name,
        "model": reply.model,
        "transport": reply.transport,
        "attempt": attempt,
        "seconds": round(time.monotonic() - started, 3),
        "usage": reply.usage,
        "cost_usd": cost,
        "worker": WORKER_ID,
        "response_path": str(response),
    }
    (steps / f"{base}.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    usage: dict[str, Any] = {
        k: meta[k]
        for k in ("model", "transport", "role", "tier", "seconds", "attempt", "cost_usd", "worker")
    }
    for key in USAGE_KEYS:
        usage[key] = int(reply.usage.get(key) or 0)
    activity.logger.info(
        "model reply: %s input / %s output tokens, cost_usd %s, %ss",
        usage["input_tokens"], usage["output_tokens"], cost, meta["seconds"],
    )
    return {ENVELOPE_KEY: usage, ENVELOPE_VALUE: parse_structured(reply.text)}
