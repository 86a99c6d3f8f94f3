"""``sagaflow test SKILL``: a skill's cases run offline, one result per case.

:func:`run_tests` finds the skill (a name, as ``launch`` finds it, or a skill
directory's path), reads its ``tests/*.yaml`` cases (:mod:`sagaflow.authoring.cases`),
runs each on one in-process Temporal (:class:`~sagaflow.authoring.runner.OfflineRunner`)
and compares what happened with what the case expects
(:func:`~sagaflow.authoring.expect.differences`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagaflow.authoring.casefile import load_cases
from sagaflow.authoring.cases import Case, no_tests_message
from sagaflow.authoring.expect import Observed, differences
from sagaflow.errors import SagaflowError, SkillLoadError, UsageError
from sagaflow.skills.discovery import LoadedSkills


class NoTestsError(UsageError):
    """The skill has no ``tests/*.yaml`` case."""


#: the differences a failed run brings with it (see :meth:`CaseResult.line`)
FOLLOWING = frozenset({"result", "inbox", "inbox.status", "inbox.summary", "model_calls"})


@dataclass
class CaseResult:
    """One case's outcome: what differed from its expectations (empty: it passed).

    ``error`` is set instead of ``observed`` when the case could not run at all (its
    arguments or replies were refused, as ``launch`` would refuse them).
    """

    case: Case
    problems: list[str]
    seconds: float
    observed: Observed | None = None

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self, *, full: bool = False) -> str:
        """``PASS  greets-alice  0.41 s`` or ``FAIL  name  0.52 s  what differed; ...``.

        A run that failed, was cancelled or did not finish when it was expected to end otherwise
        breaks its result, inbox and model-call expectations with it: unless ``full``,
        those (:data:`FOLLOWING`) are counted after the status, not spelled out.
        """
        head = f"{'PASS' if self.passed else 'FAIL'}  {self.case.name}  {self.seconds:.2f} s"
        if self.passed:
            return head
        shown = self.problems
        ended = self.observed.status.upper() if self.observed else ""
        if not full and ended in ("FAILED", "CANCELLED", "RUNNING") and any(
                p.startswith("status:") for p in shown):
            rest = [p for p in shown if p.split(":", 1)[0] in FOLLOWING]
            if len(rest) > 1:
                what = ", ".join(dict.fromkeys(p.split(":", 1)[0] for p in rest))
                shown = [p for p in shown if p not in rest]
                shown.append(f"{len(rest)} more differences that follow from it ({what}; "
                             "-v lists them)")
        return f"{head}  {'; '.join(shown)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case.name, "file": str(self.case.path), "passed": self.passed,
            "problems": list(self.problems), "seconds": round(self.seconds, 3),
            "observed": self.observed.to_dict() if self.observed else None,
        }


@dataclass
class Report:
    """Every case of one skill."""

    skill: str
    skill_dir: Path
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if not r.passed)

    def summary(self) -> str:
        """``2 passed, 1 failed in 1.93 s (skill hello-world)``."""
        passed = len(self.results) - self.failed
        return (f"{passed} passed, {self.failed} failed in {self.seconds:.2f} s "
                f"(skill {self.skill})")

    def to_dict(self) -> dict[str, Any]:
        return {"skill": self.skill, "skill_dir": str(self.skill_dir),
                "passed": len(self.results) - self.failed, "failed": self.failed,
                "seconds": round(self.seconds, 3), "cases": [r.to_dict() for r in self.results]}


def load_target(target: str, cwd: Path | None = None) -> tuple[LoadedSkills, str, Path]:
    """The skills to serve and the skill to test: ``target`` is a skill name, or the path
    of a skill directory (which then wins over any same-named skill on the search path).

    Raises:
        UnknownSkillError: No such skill (near matches named).
        SkillLoadError: The skill does not load (its reason).
        UsageError: A path that is not a skill directory.
    """
    from sagaflow.skills.discovery import SkillSource, discover_all, load_skills
    from sagaflow.skills.prepare import find_skill

    here = (cwd or Path.cwd()).resolve()
    path = Path(target).expanduser()
    if "/" in target or target in (".", "..") or _is_skill(here / path):
        directory = (here / path).resolve()
        kind = _is_skill(directory)
        if kind is None:
            raise UsageError(f"{directory} is not a skill directory (no __init__.py or SKILL.md); "
                             "give a skill's name or its directory.")
        own = SkillSource(directory, "path", kind)
        active = [own, *(s for s in discover_all(here).active if s.module != own.module)]
        loaded = load_skills(here, found=(active, []))
        info = next((i for i in loaded.infos if i.dir == directory), None)
        if info is None or info.status != "ok":
            raise SkillLoadError(info.error if info and info.error else
                                 f"Skill {directory} registered no skill; check its register().")
        return loaded, info.name, directory
    loaded = load_skills(here)
    find_skill(loaded, target)
    found = loaded.dir_of(target)
    assert found is not None  # find_skill found it loaded
    return loaded, target, found


def _is_skill(directory: Path) -> str | None:
    if (directory / "__init__.py").is_file():
        return "python"
    if (directory / "SKILL.md").is_file():
        return "skillmd"
    return None


async def run_cases(loaded: LoadedSkills, skill: str, cases: list[Case]) -> list[CaseResult]:
    """Each case on one in-process Temporal, in order."""
    from sagaflow.authoring.runner import OfflineRunner

    results = []
    async with OfflineRunner(loaded) as runner:
        for case in cases:
            started = time.monotonic()
            try:
                seen = await runner.run(skill, args=case.args, replies=case.replies,
                                        answers=case.answers, timeout=case.timeout)
            except SagaflowError as exc:  # refused at launch: that is the case's outcome
                results.append(CaseResult(case, [f"launch refused: {exc.message}"],
                                          time.monotonic() - started))
                continue
            results.append(CaseResult(case, differences(case.expect, seen),
                                      time.monotonic() - started, seen))
    return results


@contextlib.contextmanager
def _sdk_logs_silenced(silence: bool) -> Iterator[None]:
    """Keep the Temporal SDK's own log records (``Completing activity as failed`` with a
    traceback, for every failing step) off stderr: each case line already says why its
    run failed. Python's last-resort handler would print them otherwise."""
    logger = logging.getLogger("temporalio")
    if not silence:
        yield
        return
    handler, propagate = logging.NullHandler(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def run_tests(target: str, *, case: str | None = None, cwd: Path | None = None,
              sdk_logs: bool = False) -> Report:
    """Run a skill's cases offline (see the module docstring).

    ``sdk_logs``: let the Temporal SDK's log records (activity failures with their
    tracebacks) through to the root logger; off, they are dropped (``--verbose`` turns
    them on).

    Raises:
        NoTestsError: The skill has no case file (the message says where to add one).
        CaseError: A case file is malformed (``file:line: why``).
        UnknownSkillError, SkillLoadError, UsageError: see :func:`load_target`; an
            unknown ``case``.
        TestServerError: Temporal's test server is missing.
    """
    started = time.monotonic()
    loaded, skill, directory = load_target(target, cwd)
    cases = load_cases(directory, case)
    if not cases:
        raise NoTestsError(no_tests_message(skill, directory))
    with _sdk_logs_silenced(not sdk_logs):
        results = asyncio.run(run_cases(loaded, skill, cases))
    return Report(skill, directory, results, time.monotonic() - started)
