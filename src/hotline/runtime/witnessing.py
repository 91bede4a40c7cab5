"""The demo's neutral party: a witness (``hotline witness serve``) in a process of its
own, with its folder and key, that both nodes show their checkpoints to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

from hotline.domain.errors import PeerUnavailable, StorageUnavailable

#: The neutral party's witness both nodes show their checkpoints to.
WITNESS = "witness.osce.example"
HOTLINE_CLI = [sys.executable, "-m", "hotline"]


class Witnessing:
    """The neutral party's witness of the demo: its folder, key and process."""

    def __init__(self, home: Path, port: int) -> None:
        from hotline.storage.keystore import KeyStore
        from hotline.witness.store import WitnessStore

        self.home, self.port = home, port
        self.home.mkdir(parents=True, exist_ok=True)
        self.store = WitnessStore(home / "witness.db")
        self.key = KeyStore(home / "keys").create("witness", os.urandom(32))
        self.store.create(WITNESS, datetime.now().astimezone().isoformat())
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def entry(self) -> str:
        """How a node names it in its setting ``witnesses``."""
        return f"{WITNESS}={self.url}={self.key.public.text()}"

    def trust(self, party: str, key: str) -> None:
        self.store.trust(party, key, datetime.now().astimezone().isoformat())

    def serve(self, log_path: Path) -> None:
        log = log_path.open("wb")
        self.process = subprocess.Popen(
            [
                *HOTLINE_CLI,
                "--home",
                str(self.home),
                "witness",
                "serve",
                "--listen",
                f"127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StorageUnavailable("the witness stopped at start", hint=f"see {log_path}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise PeerUnavailable("the witness did not start in 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
