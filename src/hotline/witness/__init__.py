"""A witness: a third party's small node that holds only checkpoints (see docs/witness.md)."""
