"""Two versions of one workflow type, for the nondeterminism tests.

``DriftV1`` is what a run started on; ``DriftV2`` is an incompatible edit of it
(an activity where the old code started a timer). ``Raises`` is a skill that
fails with its own exception class. The sandbox re-imports this module by name
(pytest puts ``tests/engine`` on ``sys.path``).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

DRIFT = "TestDriftWorkflow"


@activity.defn(name="drift_noop")
async def drift_noop() -> str:
    return "noop"


@workflow.defn(name=DRIFT)
class DriftV1:
    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def proceed(self) -> None:
        self.go = True

    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(0.05)
        await workflow.wait_condition(lambda: self.go)
        return "v1 finished"


@workflow.defn(name=DRIFT)
class DriftV2:
    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def proceed(self) -> None:
        self.go = True

    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(drift_noop, start_to_close_timeout=timedelta(seconds=5))
        await workflow.wait_condition(lambda: self.go)
        return "v2 finished"


class SkillBug(Exception):
    """A skill's own exception class."""


@workflow.defn(name="TestRaisesWorkflow")
class Raises:
    @workflow.run
    async def run(self, kind: str) -> str:
        if kind == "own":
            raise SkillBug("the skill's own error")
        if kind == "clock":
            import datetime

            return datetime.datetime.now().isoformat()  # forbidden in workflow code
        raise ValueError("a plain ValueError")


@workflow.defn(name="TestCallsUnknownWorkflow")
class CallsUnknown:
    """Calls an activity by a name no worker registers (a typo of write_artifact)."""

    @workflow.run
    async def run(self) -> str:
        return str(await workflow.execute_activity(
            "write_artefact", start_to_close_timeout=timedelta(seconds=5)))
