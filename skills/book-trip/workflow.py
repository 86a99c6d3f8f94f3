"""book-trip: plan, hold a flight and a hotel, ask a human, then book or undo.

The holds are a saga: each registers its compensation, and any failure after it
(a rejection, no answer within a day, a crash of a later step) cancels what was held,
newest first. The approval gate's answer is routed to one of three branches.
"""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import ApprovalGate, Saga, ask_model, route

    from skills.book_trip.activities import Change, Hold, cancel, confirm, reserve

#: how long the approval waits before it counts as a rejection
DECIDE_WITHIN = timedelta(hours=24)
STEP = timedelta(seconds=30)  # each reservation call


@dataclass(frozen=True)
class TripInput:
    destination: str
    ledger: str  # the run's trip.json
    planner_system: str
    plan_prompt: str  # rendered


@workflow.defn(name="BookTripWorkflow")
class BookTripWorkflow:
    @workflow.run
    async def run(self, inp: TripInput) -> str:
        plan = await ask_model(inp.plan_prompt, system=inp.planner_system, output=dict,
                               max_tokens=600, role="planner")
        price = plan.get("PRICE", "?")
        async with Saga() as saga:
            held: list[str] = []
            for kind in ("flight", "hotel"):
                ref = await workflow.execute_activity(
                    reserve, Hold(inp.ledger, kind, plan.get(kind.upper(), kind)),
                    start_to_close_timeout=STEP,
                )
                held.append(ref)
                saga.add(self._cancel, inp.ledger, ref)

            decision = await ApprovalGate(timeout=DECIDE_WITHIN, default="reject").wait(
                "book", prompt=f"Book {' + '.join(held)} to {inp.destination} for {price}?",
            )
            outcome = ("timed_out" if decision.timed_out
                       else "approved" if decision.approved else "rejected")

            async def book() -> str:
                await workflow.execute_activity(confirm, Change(inp.ledger, held),
                                                start_to_close_timeout=STEP)
                return f"booked {', '.join(held)} to {inp.destination} for {price}"

            async def give_up(why: str) -> str:
                raise ApplicationError(f"not booked: {why}", non_retryable=True)

            return await route(outcome, {
                "approved": book,
                "rejected": lambda: give_up(f"{decision.by or 'someone'} rejected it "
                                            f"({decision.reason or 'no reason given'})"),
                "timed_out": lambda: give_up("no decision within 24 hours"),
            })

    @staticmethod
    async def _cancel(ledger: str, ref: str) -> None:
        await workflow.execute_activity(cancel, Change(ledger, [ref]), start_to_close_timeout=STEP)
