"""The activities skills written for sagaflow 0.10 call, beyond the seed API: inputs and
module-level functions.

Same field names, types and defaults as the published sagaflow 0.10 (so those skills
construct them unchanged); the work is sagaflow's own, in
:mod:`sagaflow._engine.compat_activities`. Every sagaflow worker registers these
activities by name (``finalize_manifest``, ``run_shell``, ``report_slack_progress``,
``deliver_artifact_to_slack``) whether or not a ``SkillSpec`` lists them; a skill that
lists the functions below gets the worker's bound methods instead (never run twice).

Like :mod:`sagaflow._engine.seeds`, this module is cheap to import: dataclasses and
thin functions that, called directly (not on a sagaflow worker), use the current home.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from temporalio import activity

if TYPE_CHECKING:
    from sagaflow._engine.seeds import SpawnSubagentInput

FINALIZE_MANIFEST = "finalize_manifest"
RUN_SHELL = "run_shell"
REPORT_SLACK_PROGRESS = "report_slack_progress"
DELIVER_ARTIFACT = "deliver_artifact_to_slack"


@dataclass(frozen=True)
class FinalizeManifestInput:
    """Close the run's manifest (``<run dir>/manifest.json``).

    Attributes:
        run_dir: The run directory ``build_input`` received ("" means the current run's).
        status: The skill's final status word (``completed``, ``failed``...).
        termination_label: Why it ended, in the skill's words (optional).
        error: The error text when it failed (optional).
    """

    run_dir: str
    status: str
    termination_label: str = ""
    error: str = ""


@dataclass(frozen=True)
class RunShellInput:
    """One shell command, no model.

    Attributes:
        command: Run by ``/bin/sh -c``.
        cwd: Working directory: the run directory when empty, else a directory inside it
            or inside the run's allowed roots (``artifacts: allowed_roots``).
        timeout_seconds: Killed (with its process group) after this many seconds (a
            ``timedelta`` is accepted and stored as seconds, so the input stays JSON).
        env: Variables added to the worker's environment.
        label: Shown in the worker log and the activity's heartbeat.

    Raises:
        TypeError, ValueError: ``timeout_seconds`` is not a duration, or is negative.
    """

    command: str
    cwd: str = ""
    timeout_seconds: float = 300.0
    env: dict[str, str] | None = None
    label: str = ""

    def __post_init__(self) -> None:
        from sagaflow.durations import to_seconds

        # frozen: the one rule for durations, applied where the skill builds the input
        seconds = to_seconds(self.timeout_seconds, "timeout_seconds", allow_zero=True)
        object.__setattr__(self, "timeout_seconds", seconds)


@dataclass(frozen=True)
class RunShellResult:
    """What a command did: the last 10,000 characters of stdout and 5,000 of stderr,
    its exit code (124 and ``timed_out`` when it was killed for the timeout)."""

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool = False


@dataclass(frozen=True)
class ReportSlackProgressInput:
    """A progress message for the run's Slack channel.

    Attributes:
        run_dir: The run directory ("" means the current run's).
        title: First line of the message.
        steps: ``{"name", "status", "detail", "elapsed_s"}`` mappings, one line each.
        final: The last report of the run.
        total_cost_usd, total_elapsed_s: Shown when positive.
    """

    run_dir: str
    title: str
    steps: tuple[dict[str, Any], ...] = ()
    final: bool = False
    total_cost_usd: float = 0.0
    total_elapsed_s: float = 0.0


@dataclass(frozen=True)
class DeliverArtifactInput:
    """Send a file the run wrote to its Slack channel (inside the run directory or an
    allowed root); a webhook carries text only, so its first 3,000 characters go."""

    run_dir: str
    artifact_path: str
    comment: str = ""


def step_notes(inp: SpawnSubagentInput) -> list[str]:
    """What this step asked for that it does not get, logged and kept in its record
    (``tools_needed=True`` is served: :mod:`sagaflow._engine.tool_step`)."""
    notes = []
    if inp.mcp_config_path:
        notes.append(f"mcp_config_path {inp.mcp_config_path} ignored: MCP is not supported")
    return notes


def _direct() -> Any:
    from sagaflow._engine.compat_activities import direct_compat_activities

    return direct_compat_activities()


@activity.defn(name=FINALIZE_MANIFEST)
async def finalize_manifest(inp: FinalizeManifestInput) -> str:
    """Write the run's ``manifest.json``; returns its path."""
    return str(await _direct().finalize_manifest(inp))


@activity.defn(name=RUN_SHELL)
async def run_shell(inp: RunShellInput) -> RunShellResult:
    """Run a shell command (confined working directory, timeout)."""
    result: RunShellResult = await _direct().run_shell(inp)
    return result


@activity.defn(name=REPORT_SLACK_PROGRESS)
async def report_slack_progress(inp: ReportSlackProgressInput) -> bool:
    """Post progress to Slack, or record it in the run dir; True when posted."""
    return bool(await _direct().report_slack_progress(inp))


@activity.defn(name=DELIVER_ARTIFACT)
async def deliver_artifact_to_slack(inp: DeliverArtifactInput) -> bool:
    """Send an artifact to Slack, or record it in the run dir; True when posted."""
    return bool(await _direct().deliver_artifact_to_slack(inp))


COMPAT_SEEDS: dict[str, Callable[..., Any]] = {
    FINALIZE_MANIFEST: finalize_manifest,
    RUN_SHELL: run_shell,
    REPORT_SLACK_PROGRESS: report_slack_progress,
    DELIVER_ARTIFACT: deliver_artifact_to_slack,
}
