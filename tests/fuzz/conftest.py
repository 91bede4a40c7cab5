"""The fuzz suite: hypothesis and schemathesis against the node's HTTP APIs, in-process.

Every example must get an answer below 500, in its API's error format, and leave the
record whole. The ``fuzz`` profile is what ``make test`` runs: few examples, a fixed
seed (``derandomize``), no example database, so CI sees the same inputs every run.
``HOTLINE_FUZZ=long`` runs the ``fuzz-long`` profile (random, many more examples) for a
deeper search by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from hotline.app import Node
from tests.conftest import FakeClock, make_lab_node

settings.register_profile(
    "fuzz",
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
settings.register_profile(
    "fuzz-long", settings.get_profile("fuzz"), max_examples=2_000, derandomize=False
)

#: What the fuzz tests run with; each may scale max_examples to its cost.
FUZZ = settings.get_profile("fuzz-long" if os.environ.get("HOTLINE_FUZZ") == "long" else "fuzz")


def examples(n: int) -> settings:
    """The fuzz profile with ``n`` examples (the long profile keeps its own count)."""
    if FUZZ.max_examples > settings.get_profile("fuzz").max_examples:
        return FUZZ
    return settings(FUZZ, max_examples=n)


INGEST_TOKEN = "fuzz-ingest-token"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A US node hosting RU, shared by a module's examples (they only add to it)."""
    home: Path = tmp_path_factory.mktemp("fuzz") / "node"
    node = make_lab_node(home, None, FakeClock())
    try:
        yield node
    finally:
        node.close()
