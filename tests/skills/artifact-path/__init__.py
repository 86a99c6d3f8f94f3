"""Test skill: skill arguments become the paths sagaflow writes and reads for it.

``sagaflow launch artifact-path --path P [--prompt P] [--output P] [--inbox P] [--pause S]``:
writes ``artifact`` to ``--path`` (relative paths are relative to the run
directory), sleeps ``--pause`` seconds (a durable timer), then, when ``--prompt``
or ``--output`` is given, one model step that reads ``--prompt`` (default: the
artifact) and writes its reply to ``--output``, then a finding to ``--inbox``
(default: the home's inbox). The confinement tests launch it with ``../``,
absolute and symlinked paths; the run-config tests change things during the pause.
``replies.yaml`` answers the model step for ``--transport scripted``.
"""

from sagaflow.durable.activities import emit_finding, spawn_subagent, write_artifact
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.artifact_path.workflow import ArtifactPathInput, ArtifactPathWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    return ArtifactPathInput(
        run_id=run_id, inbox_path=cli_args.get("inbox") or inbox_path,
        path=cli_args["path"], prompt=cli_args.get("prompt", ""),
        output=cli_args.get("output", ""), pause_seconds=float(cli_args.get("pause", "0")),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="artifact-path", workflow_cls=ArtifactPathWorkflow,
        activities=[write_artifact, spawn_subagent, emit_finding],
        build_input=_build_input, arguments=["path!", "prompt", "output", "inbox", "pause"],
        description="Writes where its arguments say (confinement tests).",
    ))
