"""Where a node's e-mail goes and where it reads its own: the URLs, addresses, and the
e-mail path a bundle names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.domain.crypto import SigningKey
from hotline.domain.errors import InvalidInput
from hotline.domain.mail import parse_address, parse_imap_url, shown
from hotline.domain.peering import make_bundle, open_bundle

KEY = SigningKey(bytes(range(32)))


def test_an_imap_url_names_the_mailbox_and_its_folder() -> None:
    box = parse_imap_url("imap://us%40hotline.test:s3cr%3At@127.0.0.1/Batches?starttls=off")
    assert (box.host, box.port, box.implicit_tls, box.starttls) == ("127.0.0.1", 143, False, "off")
    assert (box.user, box.password, box.folder) == ("us@hotline.test", "s3cr:t", "Batches")
    tls = parse_imap_url("imaps://u:p@mail.example")
    assert (tls.port, tls.implicit_tls, tls.folder) == (993, True, "INBOX")
    # a login carries the password: STARTTLS is required unless the server is loopback
    assert parse_imap_url("imap://u:p@mail.example").starttls == "required"
    assert parse_imap_url("imap://u:p@127.0.0.1").starttls == "optional"
    assert "p" not in repr(parse_imap_url("imap://u:p@h")).split("user='u'")[1]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("smtp://u:p@h", "the scheme is imap or imaps"),
        ("imap://h", "names no user and password"),
        ("imap://u:p@", "names no host"),
        ("imap://u:p@h:port", "the port is a number"),
        ("imap://u:p@h?starttls=maybe", "starttls='maybe'"),
    ],
)
def test_a_wrong_imap_url_is_refused_without_its_password(url: str, said: str) -> None:
    with pytest.raises(InvalidInput, match=said) as caught:
        parse_imap_url(url)
    assert ":p@" not in caught.value.message
    assert shown("imap://u:p@h") == "imap://u:***@h"


@pytest.mark.parametrize("text", ["", "us", "@hotline.test", "us@", "a@b@c", "u s@h", "u\n@h"])
def test_an_address_has_one_at_and_text_on_both_sides(text: str) -> None:
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        parse_address(text)


def test_a_bundle_names_its_mail_path_under_its_signature() -> None:
    made = make_bundle(
        party="US",
        name="United States",
        key=KEY,
        urls=["http://127.0.0.1:8100"],
        principals=[],
        issued=datetime(2026, 3, 1, tzinfo=UTC),
        mail=" us@hotline.test ",
    )
    assert made["bundle"]["mail"] == "us@hotline.test"
    assert open_bundle(made).mail == "us@hotline.test"
    changed = {**made, "bundle": {**made["bundle"], "mail": "mallory@evil.test"}}
    with pytest.raises(InvalidInput, match="signature does not match"):
        open_bundle(changed)
    plain = make_bundle(
        party="US",
        name="United States",
        key=KEY,
        urls=["http://127.0.0.1:8100"],
        principals=[],
        issued=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert "mail" not in plain["bundle"]
    assert open_bundle(plain).mail is None
