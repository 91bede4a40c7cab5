"""Writers in several processes at once (as several API workers would be), each with its
own engine and its own group commit, on one line: every send is stored, each chain stays
gap-free and fork-free. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.app import Node
from tests.integration.test_store import DECONFLICTION, assert_sound

pytestmark = pytest.mark.process

WRITER = """
import sys
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from hotline.app import open_node
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

home, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
node = open_node({}, Path(home))
node.writer.group.start()  # as `hotline serve` does
try:
    def send(k):
        draft = MessageDraft(kind=MessageKind.NOTIFICATION, precedence=Precedence.ROUTINE,
                             subject=f"{name} m{k}", body="Not directed at you.")
        return node.messages.send("us-ru-deconfliction", "US/EUCOM-JOC", draft)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(count)))
finally:
    node.writer.group.stop()
    node.close()
print("done", name)
"""


def test_writers_in_several_processes_keep_the_chains_whole(lab_node: Node) -> None:
    home: Path = lab_node.settings.home
    before = lab_node.store.count_events()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    processes, per_process = 4, 15
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), f"p{i}", str(per_process)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    for i, w in enumerate(writers):
        out, err = w.communicate(timeout=180)
        assert w.returncode == 0, err[-2000:]
        assert f"done p{i}" in out
    assert lab_node.store.count_events() == before + 2 * processes * per_process
    assert_sound(lab_node)
    subjects = [
        e.content["subject"]
        for e in lab_node.store.events(DECONFLICTION, party="US", kinds=["message"])
    ]
    wanted = {f"p{i} m{k}" for i in range(processes) for k in range(per_process)}
    assert wanted <= set(subjects) and len(subjects) == len(set(subjects))
