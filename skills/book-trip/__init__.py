"""book-trip: ``sagaflow launch book-trip --destination Lisbon [--nights 3] [--budget 1500]``."""

from pathlib import Path
from typing import Any

from sagaflow.prompts import load_prompt
from sagaflow.registry import SkillRegistry, SkillSpec

from skills.book_trip.activities import cancel, confirm, reserve
from skills.book_trip.workflow import BookTripWorkflow, TripInput


def _build_input(*, run_id, run_dir, inbox_path, cli_args: dict[str, Any]) -> TripInput:
    destination = str(cli_args["destination"]).strip()
    nights, budget = str(cli_args.get("nights", "3")), str(cli_args.get("budget", "1500"))
    if not destination:
        raise ValueError("--destination is empty; say where to go")
    if not nights.isdigit() or not 1 <= int(nights) <= 30:
        raise ValueError(f"--nights must be a whole number from 1 to 30, not {nights!r}")
    if not budget.isdigit() or int(budget) < 1:
        raise ValueError(f"--budget must be a whole number of euros, not {budget!r}")
    return TripInput(
        destination=destination,
        ledger=str(Path(run_dir) / "trip.json"),
        planner_system=load_prompt(__file__, "planner.system"),
        plan_prompt=load_prompt(__file__, "plan.user", substitutions={
            "destination": destination, "nights": nights, "budget": budget,
        }),
    )


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="book-trip",
        workflow_cls=BookTripWorkflow,
        activities=[reserve, confirm, cancel],
        build_input=_build_input,
        arguments=["destination!", "nights", "budget"],
        description="Plan a trip, hold it, ask for approval, then book or undo (example saga).",
    ))
