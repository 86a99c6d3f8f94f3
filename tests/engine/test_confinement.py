"""Files a run writes or reads on a skill's behalf stay inside its run directory
(or a root the user allowed): skill arguments used as paths, through a real worker.

The ``artifact-path`` test skill (tests/skills) turns its arguments into the paths of
``write_artifact``, ``spawn_subagent`` (prompt and ``output_path``) and ``emit_finding``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from harness import Engine
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from sagaflow._engine.failures import failure_reason


async def _refused(e: Engine, args: dict[str, str], run_id: str | None = None) -> str:
    """Launch, expect the run to fail on a non-retryable ConfinementError; its reason."""
    handle = await e.launch("artifact-path", args, run_id=run_id)
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    cause = info.value.cause
    assert isinstance(cause, ActivityError)
    app = cause.cause
    assert isinstance(app, ApplicationError)
    assert app.type == "ConfinementError" and app.non_retryable
    assert cause.retry_state == RetryState.NON_RETRYABLE_FAILURE  # failed at once, no retry
    return failure_reason(cause)


def test_skill_arguments_cannot_write_or_read_outside_the_run(engine: Engine) -> None:
    outside = engine.root / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("not for the model")

    async def scenario(e: Engine) -> None:
        ok = await e.launch("artifact-path", {"path": "sub/a.txt", "output": "reply.md"})
        assert await ok.result() == "wrote, model said 1"
        run_dir = e.home.run_dir(ok.id)
        assert (run_dir / "sub" / "a.txt").read_text() == "artifact"  # relative: in the run dir
        assert "RESULT|1" in (run_dir / "reply.md").read_text()
        assert len(e.model.calls) == 1

        # '../' and an absolute path
        for path in ("../../../escape.txt", str(outside / "abs.txt")):
            reason = await _refused(e, {"path": path})
            assert f"write_artifact path {path} leads to" in reason
            assert "outside the run directory" in reason and "allowed_roots" in reason
        assert not (e.home.root / "escape.txt").exists() and not (outside / "abs.txt").exists()

        # a symlink out of the run directory (made before the run writes through it)
        linked = e.home.run_dir("linked-run")
        linked.mkdir(parents=True)
        (linked / "link").symlink_to(outside)
        reason = await _refused(e, {"path": "link/x.txt"}, run_id="linked-run")
        assert f"leads to {outside.resolve() / 'x.txt'}" in reason
        assert not (outside / "x.txt").exists()

        # the model step's output path and prompt, and the inbox: refused before any model call
        reason = await _refused(e, {"path": "a.txt", "output": "../../reply.md"})
        assert "output_path ../../reply.md" in reason
        reason = await _refused(e, {"path": "a.txt", "prompt": str(secret)})
        assert f"user prompt path {secret}" in reason
        assert len(e.model.calls) == 1  # the secret never reached the model
        reason = await _refused(e, {"path": "a.txt", "inbox": str(outside / "INBOX.md")})
        assert f"inbox {outside / 'INBOX.md'}" in reason and "build_input" in reason
        assert not (outside / "INBOX.md").exists()

        # a root the user allowed (fixed in the run's config at launch)
        e.settings = dataclasses.replace(e.settings, artifact_roots=(str(outside),))
        allowed = await e.launch("artifact-path", {"path": str(outside / "allowed.txt")})
        assert await allowed.result() == "wrote"
        assert (outside / "allowed.txt").read_text() == "artifact"

    engine.run(scenario)


def test_a_symlink_as_the_last_component_is_refused_not_followed(engine: Engine) -> None:
    target = engine.root / "victim.txt"
    target.write_text("original")

    async def scenario(e: Engine) -> None:
        run_dir = e.home.run_dir("last-link")
        run_dir.mkdir(parents=True)
        (run_dir / "out.txt").symlink_to(target)
        reason = await _refused(e, {"path": "out.txt"}, run_id="last-link")
        assert str(Path(target).resolve()) in reason

    engine.run(scenario)
    assert target.read_text() == "original"
