"""Hostile values for the fuzz suite: JSON beyond what the node takes (unbounded integers,
NaN, deep nesting), and bytes that are not JSON at all."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**53 - 2, max_value=2**64)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(["", "US", "RU", "us-ru-deconfliction", "2026-03-01T12:00:00Z", "FLASH"])
)

#: JSON-like values (dumped with NaN and Infinity allowed: ``json.dumps`` writes them).
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)


def nest(inner: bytes, levels: int) -> bytes:
    """``inner`` wrapped in ``levels`` arrays and objects, as text (no recursion)."""
    opening = b"".join(b'{"a":' if n % 2 else b"[" for n in range(levels))
    closing = b"".join(b"}" if n % 2 else b"]" for n in reversed(range(levels)))
    return opening + inner + closing


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


#: Request bodies: JSON of any shape, nested too deeply, or bytes of any kind.
BODIES = (
    VALUES.map(dumps)
    | st.builds(nest, VALUES.map(dumps), st.integers(30, 3_000))
    | st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
)

#: Text for a path segment or a query value, integers of any size among it.
PARAMS = (
    st.integers().map(str)
    | st.integers(min_value=2**62, max_value=2**70).map(str)
    | st.text(st.characters(codec="utf-8", exclude_characters="/?#"), max_size=30)
    | st.sampled_from(["-1", "0", "1e3", "NaN", "1.5", " 7", "%00", "..", "\uff11"])
)
