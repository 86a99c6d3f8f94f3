"""The engine tests' model: a transport injected into ``SagaflowActivities(complete=...)``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagaflow._engine.meta import RunConfig
from sagaflow.models import ModelReply, complete
from sagaflow.pricing import Price

#: what inline runs (and the worker's defaults) are configured with; the transport is only
#: a label here (FakeModel answers whatever it names); the fake model costs $0.40 per call
FAKE_MODEL = "fake-model"
FAKE_CONFIG = RunConfig(
    transport="anthropic", models={"HAIKU": FAKE_MODEL, "SONNET": FAKE_MODEL},
    prices={FAKE_MODEL: Price(input=0.4, output=0.0, cache_write=0.0, cache_read=0.0)},
)


@dataclass
class FakeModel:
    """A model transport (``SagaflowActivities(complete=...)``): records calls, answers
    ``RESULT|<n>`` with 1,000,000 input tokens, which costs $0.40 at ``FAKE_CONFIG``'s price.
    The ``scripted`` transport (a skill's replies.yaml, no model) is left to sagaflow's own."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    input_tokens: int = 1_000_000
    #: when set, every call waits for it (a model call in flight, e.g. to cancel during it)
    hold: asyncio.Event | None = None

    async def __call__(
        self, transport: str, *, model: str, system: str, user: str, max_tokens: int,
        skill_dir: Path | None = None,
    ) -> ModelReply:
        self.calls.append({"transport": transport, "model": model, "system": system, "user": user})
        if self.hold is not None:
            await self.hold.wait()
        if transport == "scripted":
            return await complete(transport, model=model, system=system, user=user,
                                  max_tokens=max_tokens, skill_dir=skill_dir)
        text = f"STRUCTURED_OUTPUT_START\nRESULT|{len(self.calls)}\nSTRUCTURED_OUTPUT_END"
        return ModelReply(text=text, model=model, transport=transport,
                          usage={"input_tokens": self.input_tokens, "output_tokens": 10})
