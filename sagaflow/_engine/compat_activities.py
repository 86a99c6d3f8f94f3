"""The sagaflow 0.10 activities skills call by name, as one class with its dependencies.

:class:`CompatActivities` is built once per worker (inside
:class:`~sagaflow._engine.activities.SagaflowActivities`) with the home and the Slack
webhook URL the worker's settings name (``slack.webhook_url`` in ``config.yaml`` or
``SAGAFLOW_SLACK_WEBHOOK_URL``). Its bound methods are the activities; each takes the
run's :class:`~sagaflow._engine.meta.RunConfig` as second argument (the interceptor
appends it) for the run's allowed roots:

* ``finalize_manifest(FinalizeManifestInput) -> str``: writes ``<run dir>/manifest.json``
  (status, termination, error, model steps with tokens and cost, artifacts); a
  manifest already final is kept (a retried call writes nothing new). Returns its path.
* ``run_shell(RunShellInput) -> RunShellResult``: ``/bin/sh -c`` in the run directory
  (or a directory inside it or an allowed root), heartbeating, killed with its process
  group at the timeout (exit code 124). A failing command is a result, not an error.
* ``report_slack_progress`` / ``deliver_artifact_to_slack -> bool``: posted to the
  incoming webhook when one is configured, else recorded; every message is appended to
  ``<run dir>/slack.jsonl`` with whether it was posted, and the worker logs once that no
  webhook is configured. Never an error: a failed post is recorded and logged.

Raises (all activities): ConfinementError (not retryable) for a ``run_dir``, ``cwd`` or
artifact path outside the run directory and its allowed roots.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from sagaflow._engine.compat_seeds import (
    DELIVER_ARTIFACT,
    FINALIZE_MANIFEST,
    REPORT_SLACK_PROGRESS,
    RUN_SHELL,
    DeliverArtifactInput,
    FinalizeManifestInput,
    ReportSlackProgressInput,
    RunShellInput,
    RunShellResult,
)
from sagaflow._engine.confine import confine, current_run_dir, write_atomically
from sagaflow._engine.meta import RunConfig
from sagaflow.errors import ConfinementError, SagaflowError
from sagaflow.paths import Home
from sagaflow.runrecord import read_record
from sagaflow.timestamps import now_iso

#: ``post(url, payload)``: send one JSON message to a Slack incoming webhook (raises on failure)
PostFn = Callable[[str, dict[str, Any]], None]

SLACK_LOG = "slack.jsonl"
MANIFEST = "manifest.json"
_TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TERMINATED", "TIMED_OUT"})
_ARTIFACT_TEXT = 3000


def post_webhook(url: str, payload: dict[str, Any]) -> None:
    """POST ``payload`` as JSON to ``url`` (10 s timeout). Raises OSError on failure."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _app_error(exc: SagaflowError) -> ApplicationError:
    return ApplicationError(exc.message, type=type(exc).__name__, non_retryable=not exc.retryable)


def render_progress(inp: ReportSlackProgressInput) -> str:
    """The progress message: title, one line per step, totals."""
    marks = {"completed": "[x]", "in_progress": "[>]", "error": "[!]"}
    lines = [f"*{inp.title}*" + (" (final)" if inp.final else "")]
    for step in inp.steps:
        status = str(step.get("status", "pending"))
        detail = f" - {step['detail']}" if step.get("detail") else ""
        lines.append(f"{marks.get(status, '[ ]')} {step.get('name', '?')}{detail}")
    totals = []
    if inp.total_cost_usd > 0:
        totals.append(f"${inp.total_cost_usd:.4f}")
    if inp.total_elapsed_s > 0:
        totals.append(f"{inp.total_elapsed_s:.0f}s")
    if totals:
        lines.append(" · ".join(totals))
    return "\n".join(lines)


class CompatActivities:
    """The 0.10 activities, bound to the home and the Slack webhook.

    Args:
        home: Where run directories live.
        slack_webhook: Incoming webhook URL; "" records messages in the run dir only.
        post: Sends one webhook message (default :func:`post_webhook`; tests pass a fake).
    """

    def __init__(self, home: Home, *, slack_webhook: str = "", post: PostFn | None = None) -> None:
        self.home = home
        self.slack_webhook = slack_webhook
        self.post = post or post_webhook
        self._told_unconfigured = False

    def all(self) -> list[Callable[..., Any]]:
        """The bound activity methods."""
        return [self.finalize_manifest, self.run_shell, self.report_slack_progress,
                self.deliver_artifact_to_slack]

    def _run_dir(self, given: str) -> Path:
        """The current run's directory; ``given`` must be it (or empty)."""
        run_dir = current_run_dir(self.home)
        if given and Path(given).resolve() != run_dir.resolve():
            raise ConfinementError(
                f"run_dir {given} is not this run's directory {run_dir}; pass the run_dir "
                "that build_input received."
            )
        return run_dir

    @activity.defn(name=FINALIZE_MANIFEST)
    async def finalize_manifest(self, inp: FinalizeManifestInput, run: RunConfig | None = None) -> str:
        """Write ``manifest.json`` in the run directory (see the module docstring)."""
        try:
            run_dir = self._run_dir(inp.run_dir)
        except SagaflowError as exc:
            raise _app_error(exc) from None
        path = run_dir / MANIFEST
        await asyncio.to_thread(self._write_manifest, run_dir, path, inp)
        return str(path)

    def _write_manifest(self, run_dir: Path, path: Path, inp: FinalizeManifestInput) -> None:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text("utf-8")).get("status") in _TERMINAL:
                return  # already final: a retried call changes nothing
        steps: list[dict[str, Any]] = []
        for step in sorted((run_dir / "steps").glob("*.json")):
            if step.name.endswith(".failed.json"):
                continue
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(step.read_text("utf-8"))
                steps.append({
                    "step": step.stem, "role": data.get("role", ""), "tier": data.get("tier", ""),
                    "model": data.get("model", ""), "cost_usd": data.get("cost_usd") or 0.0,
                    "seconds": data.get("seconds", 0.0), **(data.get("usage") or {}),
                })
        skip = {MANIFEST, SLACK_LOG, "run.json"}
        artifacts = sorted(
            str(p.relative_to(run_dir)) for p in run_dir.rglob("*")
            if p.is_file() and p.name not in skip and not p.name.startswith(".")
            and p.relative_to(run_dir).parts[0] != "steps"
        )
        record = read_record(self.home, run_dir.name)
        status = inp.status.upper()
        manifest = {
            "schema_version": 1, "run_id": run_dir.name, "skill": record.skill if record else "",
            "status": status, "finalized_at": now_iso(),
            "termination": {"label": inp.termination_label} if inp.termination_label else {},
            "error": inp.error or None, "steps": steps,
            "cost": {"total_usd": round(sum(float(s["cost_usd"]) for s in steps), 6)},
            "artifacts": artifacts,
        }
        write_atomically(path, json.dumps(manifest, indent=2))

    @activity.defn(name=RUN_SHELL)
    async def run_shell(self, inp: RunShellInput, run: RunConfig | None = None) -> RunShellResult:
        """Run ``inp.command`` (see the module docstring)."""
        run_dir = current_run_dir(self.home)
        roots = run.allowed_roots if run is not None else []
        try:
            cwd = _working_dir(inp.cwd, run_dir, roots)
        except SagaflowError as exc:
            raise _app_error(exc) from None
        cwd.mkdir(parents=True, exist_ok=True)
        activity.logger.info("run_shell %s: %s", inp.label or "command", inp.command[:200])
        proc = await asyncio.create_subprocess_shell(
            inp.command, cwd=cwd, env={**os.environ, **(inp.env or {})},
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True,  # its own group: killed whole
        )
        beat = asyncio.create_task(_heartbeat(inp.label or inp.command[:80]))
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=inp.timeout_seconds)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return RunShellResult(
                stdout="", stderr=f"timed out after {inp.timeout_seconds:g}s", exit_code=124,
                timed_out=True,
            )
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        return RunShellResult(
            stdout=out.decode("utf-8", "replace")[-10_000:],
            stderr=err.decode("utf-8", "replace")[-5_000:],
            exit_code=proc.returncode if proc.returncode is not None else -1,
        )

    @activity.defn(name=REPORT_SLACK_PROGRESS)
    async def report_slack_progress(
        self, inp: ReportSlackProgressInput, run: RunConfig | None = None
    ) -> bool:
        """Post or record a progress message; True when the webhook took it."""
        try:
            run_dir = self._run_dir(inp.run_dir)
        except SagaflowError as exc:
            raise _app_error(exc) from None
        return await self._send(run_dir, "progress", render_progress(inp))

    @activity.defn(name=DELIVER_ARTIFACT)
    async def deliver_artifact_to_slack(
        self, inp: DeliverArtifactInput, run: RunConfig | None = None
    ) -> bool:
        """Post or record an artifact's text; True when the webhook took it."""
        try:
            run_dir = self._run_dir(inp.run_dir)
            roots = run.allowed_roots if run is not None else []
            path = confine(inp.artifact_path, run_dir, roots, what="artifact path")
        except SagaflowError as exc:
            raise _app_error(exc) from None
        try:
            body = await asyncio.to_thread(path.read_text, encoding="utf-8", errors="replace")
        except OSError as exc:
            body = f"(cannot read {path}: {exc.strerror})"
        cut = "\n…" if len(body) > _ARTIFACT_TEXT else ""
        text = f"{inp.comment}\n*{path.name}*\n```{body[:_ARTIFACT_TEXT]}{cut}```".lstrip("\n")
        return await self._send(run_dir, "artifact", text, artifact=str(path))

    async def _send(self, run_dir: Path, kind: str, text: str, **extra: str) -> bool:
        entry: dict[str, Any] = {"at": now_iso(), "kind": kind, "text": text, **extra}
        if not self.slack_webhook:
            entry["posted"] = False
            if not self._told_unconfigured:
                self._told_unconfigured = True
                activity.logger.info(
                    "No Slack webhook is configured (slack.webhook_url in config.yaml or "
                    "SAGAFLOW_SLACK_WEBHOOK_URL); Slack messages are recorded in each run's %s.",
                    SLACK_LOG,
                )
        else:
            try:
                await asyncio.to_thread(self.post, self.slack_webhook, {"text": text})
                entry["posted"] = True
            except Exception as exc:  # never an error for the run: recorded and logged
                entry |= {"posted": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
                activity.logger.warning("Slack webhook post failed: %s", entry["error"])
        await asyncio.to_thread(_append_line, run_dir / SLACK_LOG, json.dumps(entry))
        return bool(entry["posted"])


def _working_dir(given: str, run_dir: Path, roots: list[str]) -> Path:
    """``run_shell``'s cwd: the run directory, an allowed root, or a directory inside one.

    Raises:
        ConfinementError: anything else (see :func:`~sagaflow._engine.confine.confine`).
    """
    if not given:
        return run_dir
    candidate = Path(given) if Path(given).is_absolute() else run_dir / given
    with contextlib.suppress(OSError, RuntimeError):
        resolved = candidate.resolve()
        if any(resolved == Path(root).resolve() for root in [str(run_dir), *roots]):
            return resolved
    return confine(given, run_dir, roots, what="run_shell cwd")


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as stream:
        stream.write(line + "\n")


async def _heartbeat(detail: str) -> None:
    while True:
        activity.heartbeat(detail)
        await asyncio.sleep(1.0)


def direct_compat_activities() -> CompatActivities:
    """The instance a seed function uses when called directly (the current home and its
    settings), not on a sagaflow worker."""
    from sagaflow.config import load_settings

    home = Home.current()
    return CompatActivities(home, slack_webhook=load_settings(home).slack_webhook_url)
