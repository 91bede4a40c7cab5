"""Language tags: the language a message is written in, a catalogue's languages, a
party's and an operator's."""

from __future__ import annotations

import re

from hotline.domain.errors import InvalidInput

_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def parse_lang(text: str) -> str:
    """Check a language tag (BCP 47 shape: ``en``, ``ru``, ``en-GB``)."""
    value = text.strip()
    if not _LANG.match(value):
        raise InvalidInput("lang", f"{text!r} is not a language tag", hint="e.g. en, ru, uk")
    return value
