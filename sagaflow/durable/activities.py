"""Seed API: the activities every skill may call and their inputs.

The seed names are re-exported from :mod:`sagaflow.workflow`, the one public module for
workflow code. The names skills written for sagaflow 0.10 also import from here
(``FinalizeManifestInput`` / ``finalize_manifest``, ``RunShellInput`` /
``RunShellResult`` / ``run_shell``, and the 0.10 spellings ``finalize_manifest_activity``
and ``run_shell_activity``) come from :mod:`sagaflow._engine.compat_seeds`; every
sagaflow worker registers those activities by name.
"""

from sagaflow._engine.compat_seeds import (
    FinalizeManifestInput,
    RunShellInput,
    RunShellResult,
    finalize_manifest,
    run_shell,
)
from sagaflow.workflow import (
    EmitFindingInput,
    SpawnSubagentInput,
    WriteArtifactInput,
    emit_finding,
    spawn_subagent,
    write_artifact,
)

#: the names sagaflow 0.10 gave the same activity functions
finalize_manifest_activity = finalize_manifest
run_shell_activity = run_shell

__all__ = [
    "EmitFindingInput",
    "FinalizeManifestInput",
    "RunShellInput",
    "RunShellResult",
    "SpawnSubagentInput",
    "WriteArtifactInput",
    "emit_finding",
    "finalize_manifest",
    "finalize_manifest_activity",
    "run_shell",
    "run_shell_activity",
    "spawn_subagent",
    "write_artifact",
]
