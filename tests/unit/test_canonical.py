"""RFC 8785 (JCS) canonical JSON through hotline.domain.canonical.

Event ids and signatures are computed over these bytes, so every rule that decides them
is pinned here: key order by UTF-16 code units, ECMAScript number form, minimal string
escaping, no whitespace, and refusal of values that have no canonical form.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.canonical import canonical, content_id, digest, is_canonical, parse_checked
from hotline.domain.errors import InvalidInput


def test_rfc8785_section_3_2_2_example() -> None:
    """The example of RFC 8785 section 3.2.2, input and output as printed there."""
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],'
        '"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical(json.loads(source)) == expected.encode("utf-8")


def test_keys_are_sorted_by_utf16_code_units() -> None:
    """RFC 8785 section 3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33."""
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    out = canonical(value).decode("utf-8")
    keys = list(json.loads(out))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_a_non_bmp_key_sorts_before_a_high_bmp_key() -> None:
    """By code point U+1F600 > U+FB01; by UTF-16 code unit 0xD83D < 0xFB01."""
    assert canonical({"\ufb01": 2, "\U0001f600": 1}) == ('{"\U0001f600":1,"\ufb01":2}'.encode())
    assert canonical({"\U0001f600": 1, "\ue000": 2}) == ('{"\U0001f600":1,"\ue000":2}'.encode())
    assert canonical({"\U0001f600": 1, "\ud7ff": 2}) == ('{"\ud7ff":2,"\U0001f600":1}'.encode())


def test_key_order_is_by_code_unit_not_by_number_or_case() -> None:
    assert canonical({"b": 1, "a": 2, "B": 3, "10": 4, "9": 5, "": 6}) == (
        b'{"":6,"10":4,"9":5,"B":3,"a":2,"b":1}'
    )


def test_nested_objects_are_sorted_and_arrays_keep_order() -> None:
    value = {"b": [3, {"z": 1, "y": 2}, 1], "a": None}
    assert canonical(value) == b'{"a":null,"b":[3,{"y":2,"z":1},1]}'


def test_no_whitespace_and_literals() -> None:
    assert canonical({"t": True, "f": False, "n": None, "e": [], "o": {}}) == (
        b'{"e":[],"f":false,"n":null,"o":{},"t":true}'
    )


def test_a_tuple_is_an_array() -> None:
    assert canonical((1, "two")) == b'[1,"two"]'


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (-0.0, "0"),
        (0.0, "0"),
        (1, "1"),
        (-1, "-1"),
        (100.0, "100"),
        (4.5, "4.5"),
        (0.1, "0.1"),
        (0.002, "0.002"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e30, "1e+30"),
        (123456789012345680000.0, "123456789012345680000"),
        (333333333.33333329, "333333333.3333333"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740991, "9007199254740991"),
        (-9007199254740991, "-9007199254740991"),
    ],
)
def test_numbers_take_the_ecmascript_form(number: float, text: str) -> None:
    assert canonical(number) == text.encode("ascii")


@pytest.mark.parametrize(
    ("string", "text"),
    [
        ("plain", '"plain"'),
        ('"', '"\\""'),
        ("\\", '"\\\\"'),
        ("/", '"/"'),
        ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
        ("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"'),
        ("\x7f", '"\x7f"'),
        ("é€", '"é€"'),
        ("\u2028\u2029", '"\u2028\u2029"'),
        ("\U0001f600", '"\U0001f600"'),
    ],
    ids=[
        "plain",
        "quote",
        "backslash",
        "solidus-unescaped",
        "short-escapes",
        "control-as-u",
        "delete-raw",
        "non-ascii-raw",
        "line-separators-raw",
        "non-bmp-raw",
    ],
)
def test_strings_are_minimally_escaped_utf8(string: str, text: str) -> None:
    assert canonical(string) == text.encode("utf-8")


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        2**53,
        -(2**53),
        2**64,
        {"n": [1, float("nan")]},
        {1: "non-string key"},
        b"bytes",
        object(),
        "\ud83d",
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "2**53",
        "-2**53",
        "2**64",
        "nested-nan",
        "int-key",
        "bytes",
        "object",
        "lone-surrogate",
    ],
)
def test_a_value_without_canonical_form_is_invalid(value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        canonical(value)
    assert caught.value.field == "json"
    assert "no canonical JSON form" in str(caught.value)


def test_canonical_is_idempotent_through_json() -> None:
    value = {"z": [1.5, "x\n"], "a": {"\u00f6": -0.0, "b": 1e21}}
    once = canonical(value)
    assert canonical(json.loads(once)) == once


def test_digest_is_sha256_hex() -> None:
    assert digest(b"") == hashlib.sha256(b"").hexdigest()
    assert digest(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_content_id_is_sha256_hex_of_canonical_bytes() -> None:
    value = {"b": 2, "a": [1, "é"]}
    assert content_id(value) == hashlib.sha256(b'{"a":[1,"\xc3\xa9"],"b":2}').hexdigest()
    assert content_id({}) == hashlib.sha256(b"{}").hexdigest()


def test_content_id_ignores_key_order_and_number_spelling() -> None:
    assert content_id({"a": 1, "b": 2.0}) == content_id({"b": 2, "a": 1.0})
    assert content_id({"a": 1}) != content_id({"a": 2})


def test_content_id_of_a_value_without_canonical_form_is_invalid() -> None:
    with pytest.raises(InvalidInput):
        content_id({"x": float("nan")})


# -- the fast check verification uses ----------------------------------------------------

_TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)),
    max_size=6,
) | st.sampled_from(["\ue000", "\U0001f600", "a\u2028", "\x7f", "\x1f", "\u00e9t\u00e9"])
_NUMBER = st.integers(-(2**60), 2**60) | st.floats(allow_nan=False, allow_infinity=False)
_JSON = st.recursive(
    st.none() | st.booleans() | _NUMBER | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _slow(raw: bytes) -> bool:
    """The reference: RFC 8785's encoder, or no canonical form."""
    try:
        return canonical(json.loads(raw)) == raw
    except InvalidInput:
        return False


def _agrees(raw: bytes) -> None:
    value, plain = parse_checked(raw)
    try:
        fast = is_canonical(raw, value, plain)
    except InvalidInput:
        fast = False
    assert fast == _slow(raw), raw


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_the_fast_check_agrees_with_rfc8785_on_canonical_bytes(value: Any) -> None:
    try:
        raw = canonical(value)
    except InvalidInput:
        return
    _agrees(raw)


@settings(max_examples=400, deadline=None)
@given(_JSON, st.booleans(), st.booleans())
def test_the_fast_check_agrees_with_rfc8785_on_other_encodings(
    value: Any, ascii_only: bool, sort: bool
) -> None:
    """Bytes that are JSON but written otherwise (escaped, unsorted, spaced, floats in
    Python's form, integers past 2**53) are judged as RFC 8785 judges them."""
    raw = json.dumps(value, ensure_ascii=ascii_only, sort_keys=sort, separators=(",", ":"))
    _agrees(raw.encode("utf-8"))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1.0}',  # Python's float form: RFC 8785 writes 1
        b'{"a":1}',
        b'{"a":9007199254740993}',  # beyond I-JSON: no canonical form
        b'{"a":-0}',
        b'{"\\ud83d\\ude00":1,"\\ue000":2}',  # escaped: never canonical
        '{"\ue000":2,"\U0001f600":1}'.encode(),  # UTF-16 order puts the emoji first
        '{"\U0001f600":1,"\ue000":2}'.encode(),
        b'{"a":"\\ud800"}',  # a lone surrogate
        b'{"a":"\\u001F"}',  # uppercase hex: RFC 8785 writes lowercase
        b'{"a":"\\u001f"}',
        b'{"a":"\\/"}',
    ],
)
def test_the_fast_check_on_the_edges(raw: bytes) -> None:
    _agrees(raw)


@settings(max_examples=500, deadline=None)
@given(_JSON)
def test_canonical_writes_what_the_rfc8785_encoder_writes(value: Any) -> None:
    """Plain values take Python's encoder; the bytes are the RFC 8785 encoder's."""
    try:
        expected: bytes | None = bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        expected = None
    try:
        ours: bytes | None = canonical(value)
    except InvalidInput:
        ours = None
    assert ours == expected
