from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from skills.typed_review.activities import score_review
    from skills.typed_review.models import ReviewInput, ReviewResult


@workflow.defn(name="TypedReviewWorkflow")
class TypedReviewWorkflow:
    @workflow.run
    async def run(self, inp: ReviewInput) -> ReviewResult:
        assert isinstance(inp, ReviewInput), type(inp)  # validated, not a dict
        scores = await workflow.execute_activity(
            score_review, inp, start_to_close_timeout=timedelta(seconds=30)
        )
        return ReviewResult(
            topic=inp.topic, scores=scores, words=len(inp.document.split()),
            finished_at=workflow.now(), echo=inp.document,
        )
