"""The CLI's exit codes: one table, every error family in it, each code documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.cli import base
from hotline.domain import errors

ROOT = Path(__file__).resolve().parents[2]


def _families(cls: type[errors.HotlineError]) -> list[type[errors.HotlineError]]:
    found: list[type[errors.HotlineError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_families(sub)]
    return found


def _instance(cls: type[errors.HotlineError]) -> errors.HotlineError:
    exc = cls.__new__(cls)
    errors.HotlineError.__init__(exc, "x")
    return exc


@pytest.mark.parametrize("family", _families(errors.HotlineError), ids=lambda c: c.__name__)
def test_every_hotline_error_has_a_code_of_the_table(family: type[errors.HotlineError]) -> None:
    code = base.exit_code(_instance(family))
    assert code in base.EXIT_CODES.values()
    assert code != base.INTERNAL_ERROR


def test_a_subclass_takes_its_familys_code() -> None:
    assert base.exit_code(_instance(errors.PolicyRefused)) == base.EXIT_CODES[errors.Refused]
    assert base.exit_code(_instance(errors.ChainHalted)) == base.EXIT_CODES[errors.Refused]


def test_a_tampered_record_is_not_bad_input() -> None:
    integrity = base.exit_code(_instance(errors.IntegrityFailure))
    assert integrity == base.PROBLEM_FOUND != 0
    assert integrity != base.exit_code(_instance(errors.InvalidInput)) == base.USAGE


def test_every_code_is_in_the_documented_table() -> None:
    text = (ROOT / "docs" / "cli.md").read_text("utf-8")
    section = text[text.index("## Exit codes") :].split("\n## ")[0]
    documented = {
        int(line.split("|")[1]) for line in section.splitlines() if line[:3].strip("| ").isdigit()
    }
    codes = {
        0,
        base.PROBLEM_FOUND,
        base.USAGE,
        *base.EXIT_CODES.values(),
        base.SERVE_STOPPED,
        base.INTERNAL_ERROR,
        base.INTERRUPTED,
    }
    assert documented == codes
