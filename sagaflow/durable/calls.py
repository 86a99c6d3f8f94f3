"""The body of ``spawn_subagent``: one model call, its files, its parsed output."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from sagaflow.config import load_settings
from sagaflow.durable.activities import SpawnSubagentInput
from sagaflow.durable.structured import parse_structured
from sagaflow.errors import PromptError
from sagaflow.models import choose_transport, complete
from sagaflow.paths import Home
from sagaflow.runrecord import read_record


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "step"


async def run_model_step(
    inp: SpawnSubagentInput, run_id: str, activity_id: str, attempt: int
) -> dict[str, str]:
    """Call the run's model transport and save the full reply in the run dir.

    Returns:
        The parsed structured output (empty when the reply has no block).
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
    meta = {
        "role": inp.role,
        "tier": inp.tier_name,
        "model": reply.model,
        "transport": reply.transport,
        "attempt": attempt,
        "seconds": round(time.monotonic() - started, 3),
        "usage": reply.usage,
        "response_path": str(response),
    }
    (steps / f"{base}.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return parse_structured(reply.text)
