"""The typed-review skill's activity: a pydantic model in, a list of models out."""

from temporalio import activity

from skills.typed_review.models import ReviewInput, Score


@activity.defn(name="score_review")
async def score_review(inp: ReviewInput) -> list[Score]:
    return [Score(name=name, value=round(weight * len(inp.topic), 3))
            for name, weight in sorted(inp.weights.items())]
