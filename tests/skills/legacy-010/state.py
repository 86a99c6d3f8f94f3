from __future__ import annotations

from dataclasses import dataclass, field

from sagaflow.durable.state import WorkflowState


@dataclass
class LegacyState(WorkflowState):
    points: list[str] = field(default_factory=list)
