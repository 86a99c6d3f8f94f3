"""The typed-review skill's payloads: pydantic models, in and out of the workflow."""

from datetime import datetime

from pydantic import BaseModel, Field


class ReviewInput(BaseModel):
    topic: str
    document: str = ""  # the text of --file, inlined (large on purpose in some tests)
    weights: dict[str, float] = Field(default_factory=lambda: {"clarity": 1.0})


class Score(BaseModel):
    name: str
    value: float


class ReviewResult(BaseModel):
    topic: str
    scores: list[Score]
    words: int
    finished_at: datetime
    echo: str = ""  # the document back, so a large result is stored outside history too
