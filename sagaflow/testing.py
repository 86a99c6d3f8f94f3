"""sagaflow's offline skill runner as a pytest plugin.

Enable it in your ``conftest.py`` (it is not auto-loaded into every pytest run)::

    pytest_plugins = ["sagaflow.testing"]

then use the ``skill_runner`` fixture::

    def test_greets_alice(skill_runner):
        seen = skill_runner.run("hello-world", args={"name": "alice"})
        assert seen.status == "DONE"
        assert seen.result == "hello, alice"
        assert seen.steps == ["write_artifact", "spawn_subagent", "emit_finding"]
        assert seen.model_calls == 1

    def test_yaml_cases(skill_runner):
        report = skill_runner.check("hello-world")      # its tests/*.yaml cases
        assert not report.failed, [r.line() for r in report.results]

Each ``run`` starts Temporal's time-skipping test server in process (about 0.1 s),
runs the skill on a fresh sagaflow worker with the scripted transport in a temporary
home, gives the answers when the run waits, and returns an
:class:`~sagaflow.authoring.expect.Observed` (``status``, ``result``, ``error``,
``inbox`` entry, ``steps``, ``model_calls``, ``run_id``). Skills are found as
``sagaflow launch`` finds them from the fixture's working directory, or given by
directory path. No server, worker daemon, API key or network is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from sagaflow.authoring.casefile import load_cases
from sagaflow.authoring.cases import Answer, launch_args, parse_answer
from sagaflow.authoring.expect import Observed
from sagaflow.authoring.runner import Replies
from sagaflow.authoring.suite import Report, load_target, run_cases
from sagaflow.errors import UsageError

__all__ = ["Observed", "Report", "SkillRunner", "skill_runner"]


class SkillRunner:
    """Offline runs of skills found from ``cwd`` (see the module docstring)."""

    def __init__(self, cwd: Path | None = None) -> None:
        self.cwd = cwd

    async def arun(
        self, skill: str, *, args: Mapping[str, Any] | None = None,
        text: str | Sequence[str] | None = None, replies: Replies = None,
        answers: Sequence[Mapping[str, Any] | Answer] = (), timeout: float = 60.0,
    ) -> Observed:
        """:meth:`run` for async tests (inside a running event loop)."""
        from sagaflow.authoring.runner import OfflineRunner

        try:
            words = text if text is None or isinstance(text, str) else list(text)
            launch = launch_args(dict(args or {}), words)
            given = [a if isinstance(a, Answer) else parse_answer(dict(a)) for a in answers]
        except ValueError as exc:
            raise UsageError(f"{exc}.") from None
        loaded, name, _ = load_target(skill, self.cwd)
        async with OfflineRunner(loaded) as runner:
            return await runner.run(name, args=launch, replies=replies, answers=given,
                                    timeout=timeout)

    def run(
        self, skill: str, *, args: Mapping[str, Any] | None = None,
        text: str | Sequence[str] | None = None, replies: Replies = None,
        answers: Sequence[Mapping[str, Any] | Answer] = (), timeout: float = 60.0,
    ) -> Observed:
        """Launch ``skill`` offline and return what its run did.

        Args:
            skill: A skill name (as ``launch`` finds it) or a skill directory's path.
            args: ``--key value`` arguments (values as in a case file: text, numbers, true).
            text: Free words after the skill name (``$ARGUMENTS`` of a SKILL.md skill).
            replies: None (the skill's replies.yaml), a file relative to the skill
                directory, a list of ``{"match": ..., "reply": ...}`` rules or a
                replies.yaml mapping (``{"turns": [...]}``).
            answers: ``{"approve": STEP}``, ``{"reject": STEP, "reason": ...}``,
                ``{"signal": NAME, "payload": ...}``, in order, each given when the
                run waits on it.
            timeout: Real seconds before the run is stopped (observed as ``RUNNING``).

        Raises:
            UsageError: A bad argument or answer, an unknown skill, or a launch that
                ``sagaflow launch`` would refuse.
        """
        return asyncio.run(self.arun(skill, args=args, text=text, replies=replies,
                                     answers=answers, timeout=timeout))

    def check(self, skill: str, case: str | None = None) -> Report:
        """Run the skill's ``tests/*.yaml`` cases (or the one named ``case``), as
        ``sagaflow test`` does; the report's ``failed`` counts failed cases."""
        import time

        started = time.monotonic()
        loaded, name, directory = load_target(skill, self.cwd)
        results = asyncio.run(run_cases(loaded, name, load_cases(directory, case)))
        return Report(name, directory, results, time.monotonic() - started)


@pytest.fixture
def skill_runner() -> SkillRunner:
    """A :class:`SkillRunner` finding skills from the test's working directory."""
    return SkillRunner()
