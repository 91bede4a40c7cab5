"""JSON from outside the node (request bodies, events pushed by a peer), read with limits.

``json.loads`` alone accepts what the rest of the node cannot hold: nesting that ends in
a ``RecursionError``, integers SQLite and canonical JSON cannot store, ``NaN`` and
``Infinity``. :func:`parse_json` refuses them up front with an :class:`InvalidInput` that
says what was wrong, so no body can make a handler fail halfway.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hotline.domain.errors import InvalidInput

#: Deepest nesting of arrays and objects taken in. The deepest value the node writes
#: (a GeoJSON multipolygon in an event's content) is about 8 levels down.
MAX_DEPTH = 32
#: Numbers are kept to the I-JSON range (RFC 7493), the one canonical JSON (RFC 8785)
#: can encode, which also fits a 64-bit database column. Floats too: canonical JSON writes
#: a float of 2^53 or more as a bare integer, which no node could then read back.
MAX_INT = 2**53 - 1


class _Refused(ValueError):
    """Raised inside the decoder's hooks; turned into InvalidInput by parse_json."""


def _integer(text: str) -> int:
    # checked on the digits, before int() is asked to convert thousands of them
    if len(text.lstrip("-")) > len(str(MAX_INT)) or abs(int(text)) > MAX_INT:
        raise _Refused(f"the integer {_shorten(text)} is outside ±{MAX_INT}")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {_shorten(text)} is too large to hold")
    if abs(value) > MAX_INT:  # canonical JSON would write it as an integer out of range
        raise _Refused(f"the number {_shorten(text)} is outside ±{MAX_INT}")
    return value


def _constant(text: str) -> Any:
    raise _Refused(f"{text} is not a JSON number")


def _shorten(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"


def parse_json(data: bytes | str, what: str = "body") -> Any:
    """The JSON value in ``data``.

    Raises InvalidInput (its field is ``what``) when ``data`` is not UTF-8, not JSON,
    nested deeper than :data:`MAX_DEPTH`, or holds a number (integer or not) beyond
    ±:data:`MAX_INT`, or ``NaN``/``Infinity``.
    """
    try:
        value = json.loads(data, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except _Refused as exc:
        raise InvalidInput(what, str(exc)) from exc
    except RecursionError as exc:
        raise InvalidInput(
            what, f"nested deeper than {MAX_DEPTH} levels", hint="send a flatter value"
        ) from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(what, f"not JSON: {exc.msg} at character {exc.pos}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(what, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except ValueError as exc:  # e.g. an integer past the interpreter's digit limit
        raise InvalidInput(what, f"not JSON: {exc}") from exc
    if _may_nest_deeply(data) and depth(value) > MAX_DEPTH:
        raise InvalidInput(
            what, f"nested deeper than {MAX_DEPTH} levels", hint="send a flatter value"
        )
    return value


def _may_nest_deeply(data: bytes | str) -> bool:
    """Whether ``data`` has enough brackets to be nested deeper than MAX_DEPTH (a quick
    count that spares the walk for most values)."""
    if isinstance(data, str):
        return data.count("[") + data.count("{") > MAX_DEPTH
    return data.count(b"[") + data.count(b"{") > MAX_DEPTH


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children if isinstance(child, (dict, list)))
    return deepest
