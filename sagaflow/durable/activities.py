"""Seed API: the activities every skill may call and their inputs.

Re-exported from :mod:`sagaflow.workflow`, the one public module for workflow code.
"""

from sagaflow.workflow import (
    EmitFindingInput,
    SpawnSubagentInput,
    WriteArtifactInput,
    emit_finding,
    spawn_subagent,
    write_artifact,
)

__all__ = [
    "EmitFindingInput",
    "SpawnSubagentInput",
    "WriteArtifactInput",
    "emit_finding",
    "spawn_subagent",
    "write_artifact",
]
