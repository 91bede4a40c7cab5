"""The words of the after-action report in one language, from a file per language.

Each language is one JSON file in ``locales/`` named by its tag (``en.json``,
``ru.json``), mapping names to text; English is the reference, and every other file has
exactly its names (a test says which are missing or extra). Text is a
:meth:`str.format` template with named fields (``"link to {peer} up in {tests}"``). A
counted phrase is an object of CLDR plural categories (``{"one": "{n} test", "other":
"{n} tests"}``), chosen by the file's ``plural`` rule; a whole phrase per category, so
that words agreeing with the number are written out, not assembled.

Plain JSON rather than gettext catalogues: the console's strings are per-language JSON
keyed by name too, so translators work in one format; there is nothing to compile, and a
missing name is a test failure rather than English shown on a Russian page.

Dates and times are always UTC, written with the file's own patterns and month names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from hotline.domain.errors import InvalidInput

REFERENCE = "en"


def _one_other(n: int) -> str:
    return "one" if n == 1 else "other"


def _east_slavic(n: int) -> str:
    """Russian, Ukrainian, Belarusian: 1, 21 one; 2-4, 22-24 few; else many."""
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "few"
    return "many"


#: Plural rules by the name a language file gives in ``plural``, with their categories.
PLURAL_RULES: dict[str, tuple[Callable[[int], str], tuple[str, ...]]] = {
    "one_other": (_one_other, ("one", "other")),
    "east_slavic": (_east_slavic, ("one", "few", "many")),
    "other": (lambda _: "other", ("other",)),  # Chinese, Korean: no plural forms
}


def languages() -> tuple[str, ...]:
    """The languages the report has a file for."""
    folder = resources.files("hotline.exercise").joinpath("locales")
    names = (p.name for p in folder.iterdir())
    return tuple(sorted(n.removesuffix(".json") for n in names if n.endswith(".json")))


def load(lang: str) -> dict[str, Any]:
    """The raw entries of one language file. Raises InvalidInput when there is none."""
    path = resources.files("hotline.exercise").joinpath("locales", f"{lang}.json")
    try:
        data = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, OSError) as exc:
        raise InvalidInput(
            "language", f"the report has no words in {lang!r}", hint=", ".join(languages())
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput("language", f"{lang}.json is not an object of names")
    return data


@dataclass(frozen=True)
class Words:
    """The report's text in one language: ``t`` a phrase, ``n`` a counted phrase,
    ``moment`` a time."""

    lang: str
    entries: Mapping[str, Any]

    @classmethod
    def of(cls, lang: str) -> Words:
        """The words for a language tag: its own file, else its primary language's
        (``en-GB``: ``en``), else English."""
        return _words(lang)

    def t(self, key: str, **fields: object) -> str:
        """The phrase ``key`` with its fields filled in."""
        text = self.entries[key]
        if not isinstance(text, str):
            raise InvalidInput("key", f"{key} is a counted phrase in {self.lang}.json")
        return text.format(**fields) if fields else text

    def n(self, key: str, count: int, **fields: object) -> str:
        """The counted phrase ``key`` for ``count`` (as ``{n}``), in the right form."""
        forms = self.entries[key]
        rule, _ = PLURAL_RULES[self.entries["plural"]]
        if not isinstance(forms, dict):
            raise InvalidInput("key", f"{key} is not a counted phrase in {self.lang}.json")
        return str(forms[rule(count)]).format(n=count, **fields)

    def get(self, key: str, default: str) -> str:
        """The phrase ``key``, or ``default`` when the language has no such name (for
        codes recorded in events, such as an action named by a newer policy)."""
        text = self.entries.get(key)
        return text if isinstance(text, str) else default

    def moment(self, at: datetime, pattern: str = "date.short") -> str:
        """``at`` in UTC, written with the pattern ``pattern`` (``date.short``: day,
        month and minute; ``date.seconds``: to the second; ``date.full``: with the year;
        ``date.clock``: hours and minutes)."""
        utc = at.astimezone(UTC)
        months: Sequence[str] = self.entries["date.months"]
        return self.t(
            pattern,
            d=utc.day,
            dd=f"{utc.day:02d}",
            mm=f"{utc.month:02d}",
            mon=months[utc.month - 1],
            yyyy=utc.year,
            HH=f"{utc.hour:02d}",
            MM=f"{utc.minute:02d}",
            SS=f"{utc.second:02d}",
        )

    def number(self, value: float, digits: int = 1) -> str:
        """A decimal number with the language's decimal sign."""
        return f"{value:.{digits}f}".replace(".", self.t("number.decimal"))

    def percent(self, share: float) -> str:
        return self.t("number.percent", n=round(share * 100))

    def joined(self, parts: Sequence[str]) -> str:
        """``a``, ``a and b``, ``a, b and c``."""
        if len(parts) == 1:
            return parts[0]
        return ", ".join(parts[:-1]) + self.t("list.and") + parts[-1]

    def duration(self, seconds: float) -> str:
        """A duration in words: ``45 s``, ``23 min``, ``1 h 5 min``."""
        s = round(seconds)
        if s < 60:
            return self.t("duration.s", n=s)
        m, rest = divmod(s, 60)
        if m < 60:
            return self.t("duration.min", n=m) + (
                " " + self.t("duration.s", n=rest) if rest else ""
            )
        h, m = divmod(m, 60)
        return self.t("duration.h", n=h) + (" " + self.t("duration.min", n=m) if m else "")


@cache
def _words(lang: str) -> Words:
    known = languages()
    for tag in (lang, lang.split("-")[0].lower(), REFERENCE):
        if tag in known:
            entries = load(tag)
            if entries.get("plural") not in PLURAL_RULES:
                raise InvalidInput(
                    "plural", f"{tag}.json names no known plural rule", hint=", ".join(PLURAL_RULES)
                )
            return Words(tag, entries)
    raise InvalidInput("language", f"no words for {lang!r}")  # no English file: a broken install
