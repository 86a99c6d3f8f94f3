"""The judge's answer, as a pydantic model: ``ask_model(..., output=Verdict)`` validates it.

Kept in its own module and imported through the sandbox pass-through, so the workflow
sandbox does not rebuild the class on every run.
"""

from typing import Literal

from pydantic import BaseModel, Field


class Verdict(BaseModel):
    decision: Literal["accept", "revise", "reject"]
    score: int = Field(ge=1, le=10, description="overall quality, 1 (poor) to 10 (excellent)")
    summary: str = Field(description="two sentences at most")
    top_fix: str = Field(description="the one change that would help most")
