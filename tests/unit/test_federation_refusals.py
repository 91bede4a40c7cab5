"""The federation API's errors become statuses in one table (federation.api.refusal)."""

from __future__ import annotations

import pytest

from hotline.domain.errors import (
    HotlineError,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    PeerUnavailable,
    RequestRefused,
    StorageUnavailable,
)
from hotline.federation.api import refusal
from hotline.http.limits import BodyLimit, BodyTooLarge


@pytest.mark.parametrize(
    ("error", "authenticated", "status", "word"),
    [
        (RequestRefused("bad signature", "no"), False, 401, "bad signature"),
        (InvalidInput("body", "not JSON"), False, 401, "malformed"),
        (RequestRefused("malformed", "no"), True, 400, "malformed"),
        (InvalidInput("body", "not JSON"), True, 400, "malformed"),
        (RequestRefused("not a party", "no"), True, 403, "not a party"),
        (PeerUnavailable("cut by an outage drill"), True, 503, "outage"),
        (StorageUnavailable("database down"), True, 503, "unavailable"),
        (IntegrityFailure("stored terms fail"), True, 500, "internal"),
        (NotFound("line", "x"), True, 500, "internal"),
    ],
)
def test_each_error_has_its_answer(
    error: HotlineError, authenticated: bool, status: int, word: str
) -> None:
    got, said, _ = refusal(error, authenticated=authenticated)
    assert (got, said) == (status, word)


def test_a_body_over_its_limit_is_413() -> None:
    over = BodyTooLarge(BodyLimit("/federation/", 10, "federation_body_limit"), 11)
    assert refusal(over, authenticated=False)[:2] == (413, "too large")


def test_a_damaged_record_here_is_never_the_peers_fault() -> None:
    status, _, detail = refusal(IntegrityFailure("a line's stored terms fail"), authenticated=True)
    assert status >= 500 and "terms" not in detail  # nothing of the record leaks
