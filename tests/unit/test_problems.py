"""Errors as RFC 9457 problems: each domain error's status and kind, the headers HTTP
asks for, and the facts an error carries for programs."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from hotline.api.problems import KINDS, MEDIA_TYPE, from_error, problem
from hotline.domain import errors
from hotline.domain.intent import Activity, ShortNotice
from hotline.http.problems import ERRORS, UNMAPPED, status_of


def body(answer: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(answer.body)
    return found


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (errors.NotAuthenticated("sign in"), 401, "not-authenticated"),
        (errors.TooManyAttempts("wait"), 429, "too-many-attempts"),
        (errors.Forbidden("no"), 403, "forbidden"),
        (errors.InvalidInput("days", "too many"), 400, "invalid-input"),
        (errors.NotFound("line", "x"), 404, "not-found"),
        (errors.AlreadyExists("there"), 409, "already-exists"),
        (errors.PolicyRefused("policy"), 409, "refused"),
        (errors.ChainConflict("fork"), 409, "chain-conflict"),
        (errors.StorageUnavailable("away"), 503, "unavailable"),
        (errors.PeerUnavailable("away"), 503, "unavailable"),
        (errors.KeyUnavailable("no key"), 503, "unavailable"),
        (errors.IntegrityFailure("broken"), 500, "internal"),
    ],
)
def test_each_error_is_a_problem_of_its_kind(
    error: errors.HotlineError, status: int, kind: str
) -> None:
    answer = from_error(error)
    assert answer.status_code == status and answer.media_type == MEDIA_TYPE
    found = body(answer)
    assert found["type"].endswith("#" + kind) and kind in KINDS
    assert (found["status"], found["detail"]) == (status, error.message)
    assert found["title"]
    assert ("www-authenticate" in answer.headers) == (status == 401)
    assert ("retry-after" in answer.headers) == (status in (429, 503))


def test_retry_after_says_when_to_try_again() -> None:
    throttled = errors.TooManyAttempts("wait", hint="try later")
    throttled.retry_after = 61.2
    answer = from_error(throttled)
    assert answer.headers["retry-after"] == "62"
    assert body(answer)["hint"] == "try later"
    assert problem(503, "away").headers["retry-after"] == "5"


def test_facts_for_programs_are_members_of_the_problem() -> None:
    short = ShortNotice(Activity.NAVAL_EXERCISE, timedelta(hours=24), timedelta(hours=2))
    found = body(from_error(short))
    assert found["short_notice"] == {"required_seconds": 86400, "given_seconds": 7200}
    assert found["type"].endswith("#refused") and found["status"] == 409


def _error_classes() -> list[type[errors.HotlineError]]:
    found = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.HotlineError)
    ]
    return [cls for cls in found if cls is not errors.HotlineError]


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_domain_error_has_its_place_in_the_table(cls: type[errors.HotlineError]) -> None:
    """A new error must be placed (by itself or its family): the fallback is a 500."""
    assert any(issubclass(cls, mapped) for mapped, *_ in ERRORS), cls.__name__


def test_an_error_missing_from_the_table_is_the_nodes_fault() -> None:
    class Unplaced(errors.HotlineError):
        pass

    assert status_of(Unplaced("new")) == UNMAPPED
    assert UNMAPPED[0] == 500


def test_stored_data_failing_verification_is_never_the_callers_fault() -> None:
    status, kind, _ = status_of(errors.IntegrityFailure("event 3 of us-ru: bad signature"))
    assert (status, kind) == (500, "internal")
