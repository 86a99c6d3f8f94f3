"""Seed API: the activities every skill may call and their inputs.

The seed names are re-exported from :mod:`sagaflow.workflow`, the one public module for
workflow code. The names skills written for sagaflow 0.10 also import from here
(``FinalizeManifestInput`` / ``finalize_manifest``, ``RunShellInput`` /
``RunShellResult`` / ``run_shell``, and the 0.10 spellings ``finalize_manifest_activity``
and ``run_shell_activity``) come from :mod:`sagaflow._engine.compat_seeds`; every
sagaflow worker registers those activities by name.
"""

from typing import TYPE_CHECKING

from sagaflow.lazy import lazy_exports
from sagaflow.workflow import (
    EmitFindingInput,
    SpawnSubagentInput,
    WriteArtifactInput,
    emit_finding,
    spawn_subagent,
    write_artifact,
)

if TYPE_CHECKING:
    from sagaflow._engine.compat_seeds import (
        FinalizeManifestInput,
        RunShellInput,
        RunShellResult,
        finalize_manifest,
        run_shell,
    )

    finalize_manifest_activity = finalize_manifest
    run_shell_activity = run_shell

#: the 0.10 names, loaded on first use (PEP 562): hello-world and every skill that
#: imports only the seed names from here is imported by each ``sagaflow launch``, which
#: then does not pay for them (about 3 ms). The ``_activity`` names are the ones
#: sagaflow 0.10 gave the same activity functions.
_COMPAT = {
    name: f"sagaflow._engine.compat_seeds:{source}"
    for name, source in {
        "FinalizeManifestInput": "FinalizeManifestInput",
        "RunShellInput": "RunShellInput",
        "RunShellResult": "RunShellResult",
        "finalize_manifest": "finalize_manifest",
        "run_shell": "run_shell",
        "finalize_manifest_activity": "finalize_manifest",
        "run_shell_activity": "run_shell",
    }.items()
}


__getattr__ = lazy_exports(__name__, _COMPAT)


def __dir__() -> list[str]:
    return sorted(__all__)


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
