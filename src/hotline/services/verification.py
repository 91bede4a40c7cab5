"""Verification of this node's whole ledger."""

from __future__ import annotations

from collections.abc import Callable

from hotline.domain.verify import Report, Verifier
from hotline.storage.store import Store

PROGRESS_EVERY = 5000


def verify_store(store: Store, progress: Callable[[int], None] | None = None) -> Report:
    """Re-derive every id, check every signature, chain link and reference.

    ``progress`` is called with the number of events checked so far, every few thousand.
    """
    verifier = Verifier(store.key_directory(), store.line_terms())
    for count, row in enumerate(store.rows(), start=1):
        verifier.feed(row)
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    return verifier.finish(store.resolve)
