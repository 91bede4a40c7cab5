"""Lines in any language pair: a catalogue declares its languages and is adopted only by
parties that write one of them; the shipped starters cover en-ru, en-zh and ko-en. A line
between KR and KP desks adopts the Korean-English one and renders it in Korean."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.app import Node, init_node
from hotline.domain.errors import PolicyRefused
from hotline.domain.policy import LineKind
from hotline.domain.precedence import Precedence
from hotline.services.catalogues import STARTERS, starter_text
from tests.conftest import FakeClock, FakeRandom
from tests.federation.conftest import RU_URL, US_URL, Pair, join

LINE = "kr-kp-military"
CIRCLE = {"center": [126.9, 37.9], "radius": 5, "unit": "km"}


def korean_pair(tmp_path: Path, clock: FakeClock) -> Pair:
    """KR and KP, each node's party writing Korean, joined on a military line."""
    nodes: list[Node] = []
    for party, name in (("KR", "Republic of Korea"), ("KP", "DPR of Korea")):
        node = init_node(
            {"HOTLINE_LANGUAGE": "ko"},
            tmp_path / party.lower(),
            party,
            name,
            clock=clock,
            random=FakeRandom(party),
        )
        nodes.append(node)
    kr, kp = nodes
    kr.directory.add_principal("KR/JCS-OPS", "JCS operations", ["watch_officer"])
    kp.directory.add_principal("KP/KPA-GS", "KPA General Staff", ["watch_officer"])
    kr.peering.pin(kp.peering.export([RU_URL]))
    kp.peering.pin(kr.peering.export([US_URL]))
    pair = join(kr, kp, clock)
    kr.lines.propose(
        line_id=LINE,
        kind=LineKind.DECONFLICTION,
        title="military line",
        members=["KR/JCS-OPS", "KP/KPA-GS"],
    )
    pair.settle()
    kp.lines.accept(LINE, "KP")
    pair.settle()
    return pair


@pytest.fixture
def koreas(tmp_path: Path, clock: FakeClock) -> Pair:
    made = korean_pair(tmp_path, clock)
    yield made  # type: ignore[misc]
    made.us.close()
    made.ru.close()


def test_a_bundle_says_the_language_its_party_writes(koreas: Pair) -> None:
    [kp] = koreas.us.peers.peers()
    assert kp.language == "ko"
    assert koreas.us.catalogues.languages(("KR", "KP")) == {"KR": "ko", "KP": "ko"}


def test_a_korean_english_catalogue_is_adopted_and_read_in_korean(koreas: Pair) -> None:
    kr, kp = koreas.us, koreas.ru
    # the English-Russian starter has no Korean: neither party may adopt it
    kr.catalogues.import_text(starter_text())
    with pytest.raises(PolicyRefused, match="KP writes ko") as refused:
        kr.catalogues.adopt(LINE, "hotline-starter")
    assert "starter" in (refused.value.hint or "")
    # "starter" names the shipped one in the line's languages
    adopted = kr.catalogues.adopt(LINE, "starter")
    assert adopted.content["name"] == "hotline-starter-ko-en"
    kp.catalogues.adopt(LINE, "starter")
    koreas.settle()
    assert kr.catalogues.in_force(LINE).languages == ("ko", "en")
    assert kp.catalogues.in_force(LINE).id == adopted.content["catalogue"]

    sent = kr.catalogues.send(
        LINE,
        "KR/JCS-OPS",
        "GATE",
        1,
        {"aircraft": "KF-21", "time": "2026-03-02T09:00Z", "area": CIRCLE},
        precedence=Precedence.FLASH,
        lang="ko",
    )
    koreas.settle()
    [item] = kp.messages.inbox("KP")
    assert item.message.id == sent.id
    rendered = kp.catalogues.render(item.message, "ko")
    assert rendered is not None
    title, text = rendered
    assert title.startswith("GATE 1: ")
    assert "KF-21" in text and "반경" in text  # the area, in Korean words
    assert any("\uac00" <= ch <= "\ud7a3" for ch in title + text)  # Hangul
    english = kp.catalogues.render(item.message, "en")
    assert english is not None and english[1].startswith("Our aircraft KF-21")


def test_every_shipped_starter_loads_with_the_same_codes() -> None:
    from hotline.domain.catalogue import parse_catalogue

    loaded = {name: parse_catalogue(starter_text(name)) for name in STARTERS}
    assert {c.languages for c in loaded.values()} == {("en", "ru"), ("en", "zh"), ("ko", "en")}
    codes = {name: set(c.entries) for name, c in loaded.items()}
    assert len({frozenset(c) for c in codes.values()}) == 1  # the same messages in each


def test_a_line_no_starter_serves_is_told_to_write_its_own(
    tmp_path: Path, clock: FakeClock
) -> None:
    pair = korean_pair(tmp_path, clock)
    try:
        pair.us.catalogues.language = "zh"  # KR writing Chinese, KP Korean: no starter has both
        with pytest.raises(PolicyRefused, match="KP writes ko") as refused:
            pair.us.catalogues.adopt(LINE, "starter")
        assert "no shipped starter" in (refused.value.hint or "")
    finally:
        pair.us.close()
        pair.ru.close()
