"""Mutual TLS between nodes (``hotline.federation.tls``), over TCP on 127.0.0.1.

One test runs two real `hotline serve` processes set up with `hotline tls init` and
delivers a message between them over mutual TLS. The handshake failures run against
:class:`~hotline.runtime.serving.Serving` itself, serving a stand-in app from uvicorn in a
thread of this process, with certificates made by ``make_ca`` and ``issue_node``; callers
use the node's own client (``NodeHttp``, ``peer_http``, ``PeerClient``), so what they
report is what `hotline peer status` shows. Waits poll with deadlines.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import ssl
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from hotline import cli as hotline_cli
from hotline.config import Settings, load_settings
from hotline.domain.canonical import canonical
from hotline.domain.crypto import SigningKey, b64encode
from hotline.domain.errors import InvalidInput, PeerUnavailable
from hotline.domain.peering import BUNDLE_VERSION, check_ca, make_bundle, open_bundle
from hotline.federation import tls
from hotline.federation.client import PeerClient
from hotline.runtime.serving import Serving
from hotline.runtime.sockets import bind
from tests.conftest import FakeClock
from tests.federation.test_processes import (
    ENV,
    LINE,
    RU_DESK,
    Lab,
    Server,
    cli,
    cli_json,
    templates,  # noqa: F401  (a fixture, used by tls_lab)
    wait_for,
)

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
START_S = 30.0
NOW = tls.utc_now()
VALID = {"not_before": NOW - tls.BACKDATE, "not_after": NOW + timedelta(days=30)}


# -- certificates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """Party CAs and node certificates, each node's as the TlsFiles a node would have."""

    folder: Path
    us_ca: tls.Issued
    ru_ca: tls.Issued
    rogue_ca: tls.Issued  # calls itself RU's CA; nobody pinned it
    us: tls.TlsFiles
    ru: tls.TlsFiles
    us_other_site: tls.TlsFiles  # a second node certificate from US's CA
    ru_from_rogue: tls.TlsFiles  # says RU, issued by the rogue CA
    us_from_rogue: tls.TlsFiles
    ru_expired: tls.TlsFiles
    us_expired: tls.TlsFiles
    us_named: tls.TlsFiles  # names us-node.example only, not 127.0.0.1

    def pem(self, ca: tls.Issued) -> str:
        return ca.cert.decode("ascii")


def write_files(folder: Path, name: str, ca: tls.Issued, node: tls.Issued) -> tls.TlsFiles:
    files = tls.TlsFiles(folder / f"{name}.pem", folder / f"{name}.key", folder / f"{name}-ca.pem")
    files.cert.write_bytes(node.cert)
    files.key.write_bytes(node.key)
    files.ca.write_bytes(ca.cert)
    files.ca_key.write_bytes(ca.key)
    return files


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    life = {"not_before": NOW - tls.BACKDATE, "not_after": NOW + timedelta(days=3650)}
    us_ca, ru_ca, rogue_ca = (tls.make_ca(p, **life) for p in ("US", "RU", "RU"))
    past = {"not_before": NOW - timedelta(days=10), "not_after": NOW - timedelta(days=1)}
    local = ["127.0.0.1"]

    def node(name: str, ca: tls.Issued, party: str, hosts: list[str], **when: Any) -> Any:
        return write_files(folder, name, ca, tls.issue_node(ca, party, hosts, **(when or VALID)))

    return Pki(
        folder,
        us_ca,
        ru_ca,
        rogue_ca,
        us=node("us", us_ca, "US", local),
        ru=node("ru", ru_ca, "RU", local),
        us_other_site=node("us-b", us_ca, "US", local),
        ru_from_rogue=node("ru-rogue", rogue_ca, "RU", local),
        us_from_rogue=node("us-rogue", rogue_ca, "US", local),
        ru_expired=node("ru-expired", ru_ca, "RU", local, **past),
        us_expired=node("us-expired", us_ca, "US", local, **past),
        us_named=node("us-named", us_ca, "US", ["us-node.example"]),
    )


# -- a node's serving, in this process ---------------------------------------------------


class Recorder:
    """Stands in for the node's app: answers every HTTP request 200 with its path, and
    records the paths, so a test sees whether a request got past TLS."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.paths.append(scope["path"])
        body = json.dumps({"path": scope["path"]}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@dataclass
class Running:
    port: int
    console_port: int | None
    app: Recorder
    pinned: dict[str, str]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def console_url(self) -> str:
        assert self.console_port is not None
        return f"https://127.0.0.1:{self.console_port}"


@contextlib.contextmanager
def serving(
    files: tls.TlsFiles, pinned: Mapping[str, str], *, console: bool = False
) -> Iterator[Running]:
    """Serve a :class:`Recorder` as ``hotline serve`` serves the node's app: through
    :class:`Serving`, on 127.0.0.1 (and the console port with ``console``). Clients
    must be closed before this ends: an idle TLS connection holds uvicorn's shutdown for
    30 s (its TLS close waits for the client's)."""
    listen = bind("127.0.0.1", 0)
    console_sock = bind("127.0.0.1", 0) if console else None
    settings = Settings(
        home=files.cert.parent,
        party="US",
        database_url="sqlite://",
        sqlite_synchronous="NORMAL",
        tls_cert=str(files.cert),
        tls_key=str(files.key),
        tls_ca=str(files.ca),
        console_listen=f"127.0.0.1:{console_sock.getsockname()[1]}" if console_sock else "",
    )
    live = dict(pinned)
    node = Serving(settings, f"127.0.0.1:{listen.getsockname()[1]}", lambda: dict(live))
    assert node.scheme == "https"
    app = Recorder()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", **node.options())
    )
    thread = threading.Thread(
        target=node.run,
        args=(server, [listen], [console_sock] if console_sock else None, lambda line: None),
        name="tls server",
        daemon=True,
    )
    thread.start()
    try:
        wait_for(
            "the TLS server to start", lambda: server.started or not thread.is_alive(), timeout=30
        )
        assert thread.is_alive(), "the TLS server stopped at its start"
        yield Running(
            listen.getsockname()[1],
            console_sock.getsockname()[1] if console_sock else None,
            app,
            live,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        for sock in (listen, console_sock):
            if sock is not None:
                sock.close()
    assert not thread.is_alive(), "the TLS server did not stop"


@contextlib.contextmanager
def caller(files: tls.TlsFiles, ca: str, url: str) -> Iterator[PeerClient]:
    """The client `hotline serve` (or `peer status`) on a node with ``files`` reaches the
    peer "US" at ``url`` with, trusting ``ca`` for it. Its requests are signed by a key
    the server's stand-in app does not check: these tests are about TLS only."""
    with tls.NodeHttp(files, timeout=TIMEOUT) as http:
        yield PeerClient(
            own="RU",
            key=SigningKey(b"r" * 32),
            peer="US",
            peer_key=SigningKey(b"u" * 32).public,
            urls=[url],
            http=tls.peer_http(http, "US", [url], ca),
            clock=FakeClock(),
        )


def refusal(client: PeerClient) -> str:
    """The PeerUnavailable message of a call that fails."""
    with pytest.raises(PeerUnavailable) as failed:
        client.heads()
    return failed.value.message


def heads_path(client: PeerClient) -> str:
    """Call the stand-in over mutual TLS: it answers unsigned, so the TLS part worked
    when the only failure is the answer's signature."""
    message = refusal(client)
    assert "answer not trusted" in message, message
    return message


# -- two nodes, two processes --------------------------------------------------------------


@dataclass
class TlsServer(Server):
    """A `hotline serve` process with TLS: its URL is https; readiness is asked on the
    listen port with the node's own certificate (our own CA is trusted there)."""

    verify: ssl.SSLContext | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(
                f"{self.party} server exited {self.proc.returncode}\n{self.tail()}"
            )
        if self.verify is None:
            files = tls.tls_files(load_settings(ENV, self.home))
            assert files is not None, "tls init did not set tls_cert, tls_key and tls_ca"
            self.verify = tls.client_context(files, files.ca_pem())
        try:
            answer = httpx.get(self.url + "/health", timeout=1.0, verify=self.verify)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and answer.json().get("party") == self.party


class TlsLab(Lab):
    """Lab's peered pair, each node given TLS (`tls init --host 127.0.0.1`) first."""

    def server(self, party: str, template: Path, taken: set[int]) -> Server:
        plain = super().server(party, template, taken)
        cli(plain.home, "tls", "init", "--host", "127.0.0.1")
        served = TlsServer(plain.party, plain.home, plain.port, plain.log_path)
        self.servers[-1] = served
        return served


@pytest.fixture
def tls_lab(tmp_path: Path, templates: tuple[Path, Path]) -> Iterator[TlsLab]:  # noqa: F811
    made = TlsLab(tmp_path, templates)
    try:
        yield made
    finally:
        made.close()


@pytest.mark.slow
def test_two_nodes_deliver_and_receipt_over_mutual_tls(tls_lab: TlsLab) -> None:
    # Each node pins the other's CA while serving, so this also shows a CA pinned by
    # `peer import` being trusted without a restart.
    pair = tls_lab.pair()
    [pinned] = pair.us_node.peers.peers()
    assert pinned.urls == (pair.ru.url,)
    assert pinned.urls[0].startswith("https://")
    ru_files = tls.tls_files(load_settings(ENV, pair.ru.home))
    assert ru_files is not None
    assert pair.us_node.peers.tls_ca("RU") == ru_files.ca_pem()  # pinned from RU's bundle
    with pytest.raises(httpx.HTTPError):  # the listen port speaks TLS only
        httpx.get(f"http://127.0.0.1:{pair.us.port}/health", timeout=5.0)

    [sent] = pair.send(1)
    wait_for("RU to hold the message", lambda: pair.ru_holds([sent]), explain=pair.explain)
    assert [i.message.id for i in pair.ru_node.messages.inbox("RU")] == [sent]
    cli(pair.ru.home, "ack", sent, "--as", RU_DESK)
    wait_for(
        "US to hold RU's ack",
        lambda: any(
            i.ack is not None for i in pair.us_node.messages.inbox("RU", include_acked=True)
        ),
        explain=pair.explain,
    )
    pair.wait_settled()

    rows = cli_json(pair.us.home, "peer", "status")
    assert {(r["line"], r["chain"]) for r in rows} == {(LINE, "US"), (LINE, "RU")}
    for row in rows:
        assert row["their_head"] is not None, row  # RU answered over mutual TLS
        assert row["their_head"] == row["our_head"] > 0, row
        assert row["queued"] in (0, None), row
        assert row["last_error"] is None or row["recovered"], row
    assert pair.us_node.store.heads() == pair.ru_node.store.heads()


# -- who the listen port lets in ----------------------------------------------------------


def test_a_caller_with_a_certificate_from_an_unpinned_ca_is_refused(pki: Pki) -> None:
    with serving(pki.us, {"RU": pki.pem(pki.ru_ca)}) as node:
        with caller(pki.ru_from_rogue, pki.pem(pki.us_ca), node.url) as rogue:
            message = refusal(rogue)
        assert node.app.paths == [], "a request got past the TLS handshake"
        assert "TLS:" in message and "refused our certificate" in message, message
        assert "pinned our CA" in message, message

        with caller(pki.ru, pki.pem(pki.us_ca), node.url) as genuine:
            heads_path(genuine)
        assert node.app.paths == ["/federation/v1/heads"]


def test_a_caller_without_a_certificate_is_refused(pki: Pki) -> None:
    browser = ssl.create_default_context(cadata=pki.pem(pki.us_ca))
    with serving(pki.us, {}) as node:
        with pytest.raises(httpx.HTTPError) as failed:
            httpx.get(node.url + "/health", verify=browser, timeout=TIMEOUT)
        assert node.app.paths == []
    assert "refused our certificate" in tls.explain(failed.value)


def test_our_own_ca_is_trusted_for_our_other_sites(pki: Pki) -> None:
    with serving(pki.us, {}) as node, caller(pki.us_other_site, pki.pem(pki.us_ca), node.url) as c:
        heads_path(c)
    assert node.app.paths == ["/federation/v1/heads"]


def test_a_ca_pinned_while_serving_is_trusted_without_a_restart(pki: Pki) -> None:
    with serving(pki.us, {}) as node:
        with caller(pki.ru, pki.pem(pki.us_ca), node.url) as early:
            assert "refused our certificate" in refusal(early)
        assert node.app.paths == []

        node.pinned["RU"] = pki.pem(pki.ru_ca)  # as `hotline peer import` pins it

        def through() -> bool:
            with caller(pki.ru, pki.pem(pki.us_ca), node.url) as later:
                return "answer not trusted" in refusal(later)

        wait_for("the node to trust RU's CA", through, timeout=tls.REFRESH_S + 60)
        assert node.app.paths, "no request got through"


def test_a_caller_with_an_expired_certificate_is_refused(pki: Pki) -> None:
    with serving(pki.us, {"RU": pki.pem(pki.ru_ca)}) as node:
        with caller(pki.ru_expired, pki.pem(pki.us_ca), node.url) as stale:
            message = refusal(stale)
        assert node.app.paths == []
    assert "refused our certificate" in message and "expired" in message, message


# -- what a caller accepts of the node it calls ------------------------------------------


def test_a_server_certificate_not_from_the_pinned_ca_is_refused(pki: Pki) -> None:
    with serving(pki.us_from_rogue, {"RU": pki.pem(pki.ru_ca)}) as node:
        with caller(pki.ru, pki.pem(pki.us_ca), node.url) as client:
            message = refusal(client)
        assert node.app.paths == []
    # The node sends its CA along (OpenSSL builds the chain from its trust store), so
    # the caller finds an untrusted self-signed CA in the chain rather than no issuer.
    assert "TLS: its certificate is not" in message and "its pinned CA" in message, message


def test_a_server_certificate_from_a_ca_pinned_for_another_party_is_refused(pki: Pki) -> None:
    # RU's node certificate is genuine, but the caller expects US, with US's CA pinned.
    with serving(pki.ru, {"US": pki.pem(pki.us_ca)}) as node:
        with caller(pki.us, pki.pem(pki.us_ca), node.url) as client:
            message = refusal(client)
        assert node.app.paths == []
    assert "TLS: its certificate is not" in message and "pinned CA" in message, message


def test_an_expired_server_certificate_is_refused(pki: Pki) -> None:
    with serving(pki.us_expired, {"RU": pki.pem(pki.ru_ca)}) as node:
        with caller(pki.ru, pki.pem(pki.us_ca), node.url) as client:
            message = refusal(client)
        assert node.app.paths == []
    assert "TLS: its certificate has expired" in message, message


def test_a_host_name_not_in_the_certificate_is_refused(pki: Pki) -> None:
    with serving(pki.us_named, {"RU": pki.pem(pki.ru_ca)}) as node:
        with caller(pki.ru, pki.pem(pki.us_ca), node.url) as client:
            message = refusal(client)
        assert node.app.paths == []
        assert "TLS: its certificate does not name this host" in message, message

        # The same connection, asking for the name the certificate holds, gets through.
        context = tls.client_context(pki.ru, pki.pem(pki.us_ca))
        with httpx.Client(verify=context, timeout=TIMEOUT) as http:
            answer = http.get(node.url + "/health", extensions={"sni_hostname": "us-node.example"})
        assert answer.status_code == 200
        assert node.app.paths == ["/health"]


def test_https_without_a_pinned_ca_or_a_node_certificate_is_refused(pki: Pki) -> None:
    url = "https://127.0.0.1:1"
    with tls.NodeHttp(pki.ru, timeout=TIMEOUT) as http:
        assert tls.peer_http(http, "US", ["http://127.0.0.1:1"], None) is http
        with pytest.raises(PeerUnavailable, match="no TLS CA is pinned"):
            tls.peer_http(http, "US", [url], None)
    plain = tls.NodeHttp(None, timeout=TIMEOUT)
    with plain, pytest.raises(PeerUnavailable, match="needs this node's TLS certificate"):
        tls.peer_http(plain, "US", [url], pki.pem(pki.us_ca))


def test_node_http_closes_its_peer_clients_when_its_block_ends(pki: Pki) -> None:
    with tls.NodeHttp(pki.ru, timeout=TIMEOUT) as http:
        peer = tls.peer_http(http, "US", ["https://127.0.0.1:1"], pki.pem(pki.us_ca))
        assert peer is not http
        assert not peer.is_closed
    assert peer.is_closed


# -- the console port --------------------------------------------------------------------


def test_the_console_port_asks_for_no_certificate_and_serves_no_federation_api(pki: Pki) -> None:
    browser = ssl.create_default_context(cadata=pki.pem(pki.us_ca))
    with serving(pki.us, {"RU": pki.pem(pki.ru_ca)}, console=True) as node:
        with httpx.Client(verify=browser, timeout=TIMEOUT) as http:
            health = http.get(node.console_url + "/health")
            federation = http.get(node.console_url + "/federation/v1/heads")
            with pytest.raises(httpx.HTTPError):  # the listen port still wants a certificate
                http.get(node.url + "/health")
        assert health.status_code == 200
        assert federation.status_code == 404
        assert "not served on the console port" in federation.json()["error"]
        assert node.app.paths == ["/health"]

        with caller(pki.ru, pki.pem(pki.us_ca), node.url) as peer:
            heads_path(peer)  # the federation API is on the listen port
        assert node.app.paths == ["/health", "/federation/v1/heads"]


# -- bundles carry the CA ----------------------------------------------------------------


BUNDLE_KEY = SigningKey(b"k" * 32)


def signed(body: dict[str, Any]) -> dict[str, Any]:
    """A bundle signed as make_bundle signs it, with a body make_bundle would refuse."""
    return {"bundle": body, "sig": b64encode(BUNDLE_KEY.sign(canonical(body)))}


def body(urls: list[str], tls_ca: str) -> dict[str, Any]:
    return {
        "v": BUNDLE_VERSION,
        "party": "US",
        "name": "United States",
        "node_key": BUNDLE_KEY.public.text(),
        "urls": urls,
        "principals": [],
        "issued": "2026-03-01T12:00:00.000Z",
        "tls_ca": tls_ca,
    }


def bundle(urls: list[str], tls_ca: str | None) -> dict[str, Any]:
    return make_bundle(
        party="US",
        name="United States",
        key=BUNDLE_KEY,
        urls=urls,
        principals=[],
        issued=datetime(2026, 3, 1, 12, tzinfo=NOW.tzinfo),
        tls_ca=tls_ca,
    )


def test_a_bundle_carries_and_pins_the_ca_with_https_urls(pki: Pki) -> None:
    opened = open_bundle(bundle(["https://us.example:8100"], pki.pem(pki.us_ca)))
    assert opened.tls_ca == pki.pem(pki.us_ca)
    assert open_bundle(bundle(["http://us.example:8100"], None)).tls_ca is None


def test_a_bundle_with_a_ca_and_http_urls_is_refused(pki: Pki) -> None:
    urls = ["https://us.example:8100", "http://us-b.example:8100"]
    with pytest.raises(InvalidInput, match="reached over https, not http://us-b"):
        bundle(urls, pki.pem(pki.us_ca))
    with pytest.raises(InvalidInput, match="reached over https, not http://us-b"):
        open_bundle(signed(body(urls, pki.pem(pki.us_ca))))


def test_a_ca_swapped_in_after_signing_is_refused(pki: Pki) -> None:
    data = bundle(["https://us.example:8100"], pki.pem(pki.us_ca))
    data["bundle"]["tls_ca"] = pki.pem(pki.rogue_ca)
    with pytest.raises(InvalidInput, match="signature does not match"):
        open_bundle(data)


def test_a_bundle_whose_ca_is_no_ca_is_refused(pki: Pki) -> None:
    node_cert = pki.us.cert.read_text("ascii")
    with pytest.raises(InvalidInput, match="not a CA certificate"):
        bundle(["https://us.example:8100"], node_cert)
    with pytest.raises(InvalidInput, match="not a CA certificate"):
        open_bundle(signed(body(["https://us.example:8100"], node_cert)))


def corrupt_signature(pem: str) -> str:
    """The certificate with one bit of its signature flipped, re-encoded as PEM."""
    der = bytearray(ssl.PEM_cert_to_DER_cert(pem))
    der[-1] ^= 0x01  # the signature ends the DER encoding
    return ssl.DER_cert_to_PEM_cert(bytes(der))


def test_check_ca_takes_a_self_signed_ca(pki: Pki) -> None:
    ca = pki.pem(pki.us_ca)
    assert check_ca(ca) == ca
    assert check_ca(ca.replace("\n", "\r\n")) == ca  # re-encoded


NOT_A_CA: dict[str, tuple[Callable[[Pki], object], str]] = {
    "two certificates": (lambda p: p.pem(p.us_ca) + p.pem(p.ru_ca), "not one PEM certificate"),
    "no certificate": (lambda p: "hello", "not one PEM certificate"),
    "not text": (lambda p: 42, "not one PEM certificate"),
    "garbage inside": (
        lambda p: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "not a readable certificate",
    ),
    "a node certificate": (lambda p: p.us.cert.read_text("ascii"), "not a CA certificate"),
    "a tampered CA": (
        lambda p: corrupt_signature(p.pem(p.us_ca)),
        "not a self-signed root certificate",
    ),
}


@pytest.mark.parametrize("case", NOT_A_CA)
def test_check_ca_refuses_what_is_not_one_self_signed_ca(pki: Pki, case: str) -> None:
    make, expected = NOT_A_CA[case]
    with pytest.raises(InvalidInput, match=expected):
        check_ca(make(pki))


# -- the command line ------------------------------------------------------------------------


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass
class Hotline:
    """``hotline(*args)`` runs ``hotline --home HOME *args`` in this process (fast)."""

    home: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def __call__(self, *args: str, ok: bool = True) -> Ran:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "argv", ["hotline", "--home", str(self.home), *args])
        code = 0
        try:
            hotline_cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = self.capsys.readouterr()
        if ok:
            assert code == 0, f"hotline {' '.join(args)} exited {code}: {captured.err}"
        return Ran(code, captured.out, captured.err)


@pytest.fixture
def hotline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Hotline:
    """A new US node (`hotline init --party US`), without TLS."""
    monkeypatch.setenv("COLUMNS", "200")
    for name in [n for n in os.environ if n.startswith("HOTLINE_")]:
        monkeypatch.delenv(name)
    run = Hotline(tmp_path / "node", capsys, monkeypatch)
    run("init", "--party", "US")
    return run


def test_tls_init_twice_is_refused_and_keeps_the_files(hotline: Hotline) -> None:
    hotline("tls", "init", "--host", "127.0.0.1", "--host", "us-node.example")
    keys = hotline.home / "keys"
    before = {p.name: p.read_bytes() for p in keys.glob("tls-*")}
    assert set(before) == {tls.CA_CERT, tls.CA_KEY, tls.NODE_CERT, tls.NODE_KEY}
    shown = hotline("tls", "show", "--json").json()
    assert shown["problems"] == []
    assert shown["node"]["hosts"] == ["127.0.0.1", "us-node.example"]

    again = hotline("tls", "init", "--host", "127.0.0.1", ok=False)
    assert again.code == 4
    assert "has TLS already" in again.err
    assert {p.name: p.read_bytes() for p in keys.glob("tls-*")} == before


def test_tls_issue_renews_the_node_certificate_from_the_same_ca(hotline: Hotline) -> None:
    hotline("tls", "init", "--host", "127.0.0.1")
    before = hotline("tls", "show", "--json").json()
    key_before = (hotline.home / "keys" / tls.NODE_KEY).read_bytes()

    hotline("tls", "issue", "--days", "30")
    after = hotline("tls", "show", "--json").json()

    assert after["problems"] == []
    assert after["ca"]["sha256"] == before["ca"]["sha256"]
    assert after["node"]["sha256"] != before["node"]["sha256"]
    assert after["node"]["hosts"] == before["node"]["hosts"] == ["127.0.0.1"]
    assert after["node"]["not_after"] < before["node"]["not_after"]
    assert (hotline.home / "keys" / tls.NODE_KEY).read_bytes() != key_before
    assert (hotline.home / "keys" / tls.NODE_KEY).stat().st_mode & 0o077 == 0


def test_tls_show_reports_a_node_certificate_from_another_ca(hotline: Hotline, pki: Pki) -> None:
    hotline("tls", "init", "--host", "127.0.0.1")
    keys = hotline.home / "keys"
    assert "the node certificate is valid" in hotline("tls", "show").out
    shutil.copyfile(pki.us_from_rogue.cert, keys / tls.NODE_CERT)
    shutil.copyfile(pki.us_from_rogue.key, keys / tls.NODE_KEY)

    shown = hotline("tls", "show", "--json", ok=False)
    assert shown.code == 1  # problems found
    assert shown.json()["problems"] == ["the node certificate is not issued by the party CA"]
    text = hotline("tls", "show", ok=False)
    assert text.code == 1
    assert "PROBLEM: the node certificate is not issued by the party CA" in text.out

    shutil.copyfile(pki.us.key, keys / tls.NODE_KEY)  # a key of another certificate
    assert (
        "the node key does not match the node certificate"
        in (hotline("tls", "show", "--json", ok=False).json()["problems"])
    )


def test_tls_show_reports_an_expired_node_certificate(hotline: Hotline, pki: Pki) -> None:
    hotline("tls", "init", "--host", "127.0.0.1")
    keys = hotline.home / "keys"
    for name, source in ((tls.CA_CERT, pki.us.ca), (tls.CA_KEY, pki.us.ca_key)):
        shutil.copyfile(source, keys / name)
    shutil.copyfile(pki.us_expired.cert, keys / tls.NODE_CERT)
    shutil.copyfile(pki.us_expired.key, keys / tls.NODE_KEY)

    [problem] = hotline("tls", "show", "--json", ok=False).json()["problems"]
    assert problem.startswith("the node certificate expired on")

    hotline("tls", "issue")  # renewal mends it
    assert hotline("tls", "show", "--json").json()["problems"] == []
