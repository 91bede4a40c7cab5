"""The one reader of JSON from outside: bounded depth and numbers, clear refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.errors import InvalidInput
from hotline.domain.events import Event
from hotline.domain.json_input import MAX_DEPTH, MAX_INT, depth, parse_json


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (nested(MAX_DEPTH + 1), "nested deeper than 32"),
        (nested(100_000), "nested deeper than 32"),
        (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "nested deeper"),
        (str(MAX_INT + 1).encode(), "outside"),
        (str(-MAX_INT - 1).encode(), "outside"),
        (b"1" * 5_000, "(5000 digits) is outside"),
        (b"[1e400]", "too large"),
        (b"[-1E+999]", "too large"),
        (b"[1e16]", "outside"),
        (b"[-9007199254740992.0]", "outside"),
        (b"NaN", "NaN is not a JSON number"),
        (b'{"x": -Infinity}', "-Infinity"),
        (b"\xff\xfe\x00", "not"),
        (b"\xc3\x28", "not UTF-8"),
        (b"", "not JSON"),
        (b'{"a": 1', "not JSON"),
        (b"[1] [2]", "not JSON"),
    ],
)
def test_refused_with_what_was_wrong(text: bytes, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_json(text, "tracks")
    assert refused.value.field == "tracks"
    assert words in refused.value.message


def test_what_the_node_writes_is_read_back() -> None:
    value = {
        "seq": MAX_INT,
        "low": -MAX_INT,
        "area": {"type": "MultiPolygon", "coordinates": [[[[20.5, 54.1], [21.0, 54.2]]]]},
        "tiny": 1e-300,
        "big": 9007199254740991.0,
        "text": "NaN and Infinity as text, [[[ {{{",
    }
    assert parse_json(json.dumps(value)) == value
    assert parse_json(nested(MAX_DEPTH)) is not None


def test_depth_counts_containers_without_recursion() -> None:
    deep: Any = 1
    for _ in range(50_000):
        deep = [deep]
    assert depth(deep) == 50_000
    assert depth({"a": [1, {"b": []}], "c": 2}) == 4
    assert depth("scalar") == 0


def test_an_event_of_hostile_bytes_is_invalid_input() -> None:
    for raw in (nested(5_000), b'{"seq": 99999999999999999999}', b'{"x": NaN}'):
        with pytest.raises(InvalidInput):
            Event.from_raw(raw, b"\x00" * 64)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_INT, MAX_INT)
    | st.floats(-MAX_INT, MAX_INT)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(JSON)
def test_any_bounded_json_value_is_read_back(value: Any) -> None:
    assert parse_json(json.dumps(value)) == value


@pytest.mark.slow
@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_are_a_value_or_invalid_input(data: bytes) -> None:
    refused = None
    try:
        parse_json(data)
    except InvalidInput as exc:
        refused = exc
    assert refused is None or refused.message.startswith("body: ")
