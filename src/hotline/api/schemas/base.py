"""What every answer model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FROM", "Answer", "Field"]


class Answer(BaseModel):
    """An answer of the API. A member named ``from`` is ``from_`` in Python."""

    model_config = ConfigDict(populate_by_name=True)


#: The ``from`` member (a Python keyword): who sent or asked.
FROM = Field(alias="from", description="who sent it (a principal)")
