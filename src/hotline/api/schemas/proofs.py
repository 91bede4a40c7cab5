"""Checkpoints of a line's chains, as the record shows them."""

from __future__ import annotations

from hotline.api.schemas.base import Answer, Field


class Cosigner(Answer):
    name: str = Field(description="the party (its node) or the witness that cosigned")
    time: str | None = Field(description="when it cosigned, by its own clock")


class ChainCheckpoint(Answer):
    party: str = Field(description="whose chain")
    size: int = Field(description="the chain's first SIZE events are covered")
    root: str = Field(description="the Merkle root (RFC 9162), base64")
    made_at: str = Field(description="when the chain's node signed it")
    cosigned_at: str | None = Field(description="when the peer cosigned it; null: not yet")
    cosigners: list[Cosigner] = Field(description="the peer's node, then witnesses")
    witnesses: list[Cosigner]
    note: str = Field(description="the whole signed note (C2SP tlog-checkpoint)")


class SignedCheckpoint(Answer):
    line: str
    party: str
    size: int
