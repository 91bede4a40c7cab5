"""TLS for a node: its party's CA, the node certificate, and the SSL contexts.

Each party runs its own certificate authority (an ECDSA P-256 key and a self-signed
certificate, made by ``hotline tls init``). The CA issues the node certificate (serverAuth
and clientAuth, naming the node's DNS names and addresses), and the CA certificate
travels inside the signed peer bundle, where the other party pins it. Between nodes TLS
is mutual:

- a node calling a peer over https trusts only that peer's pinned CA (never the system's
  CAs), shows its own node certificate, and checks the URL's host against the peer's;
- the ``listen`` port asks every caller for a certificate issued by one of the pinned CAs
  or by our own (our other sites); a CA pinned while the node serves is trusted within
  :data:`REFRESH_S` seconds.

The console port (``console_listen``) serves browsers with the node certificate, asks
for no client certificate, and does not serve the federation API.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from starlette.responses import JSONResponse

from hotline.config import Settings
from hotline.domain.errors import AlreadyExists, InvalidInput, PeerUnavailable
from hotline.domain.peering import check_ca

log = logging.getLogger("hotline.tls")

#: How long a party's CA lasts; node certificates are re-issued from it (``tls issue``).
CA_DAYS = 3650
#: Default life of a node certificate.
NODE_DAYS = 365
#: Certificates start this far back, so a peer whose clock is a little behind accepts them.
BACKDATE = timedelta(minutes=5)
#: How often the listen port re-reads the pinned CAs.
REFRESH_S = 3.0
#: File names in the node's keys folder (``hotline tls init``).
CA_CERT, CA_KEY, NODE_CERT, NODE_KEY = "tls-ca.pem", "tls-ca.key", "tls-node.pem", "tls-node.key"
FEDERATION_PATH = "/federation"

_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


# -- certificates (no I/O) -----------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A private key and its certificate, both PEM."""

    key: bytes
    cert: bytes


def parse_hosts(hosts: Iterable[str]) -> list[x509.GeneralName]:
    """Host names and IP addresses for a certificate's subjectAltName."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        text = host.strip().lower()
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(text)))
            continue
        except ValueError:
            pass
        if len(text) > 253 or not all(_DNS_LABEL.match(label) for label in text.split(".")):
            raise InvalidInput(
                "host", f"{host!r} is neither a DNS name nor an IP address", hint="e.g. us-node-1"
            )
        names.append(x509.DNSName(text))
    if not names:
        raise InvalidInput(
            "host",
            "the node certificate needs at least one name",
            hint="give each name and address peers use in the node's URLs: --host HOST",
        )
    return names


def _name(party: str, role: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"hotline {party}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{party} hotline {role}"),
        ]
    )


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _check_window(not_before: datetime, not_after: datetime) -> None:
    if not_before.tzinfo is None or not_after.tzinfo is None:
        raise InvalidInput("validity", "give times with a time zone")
    if not_after <= not_before:
        raise InvalidInput("validity", "the certificate would end before it starts")


def make_ca(party: str, *, not_before: datetime, not_after: datetime) -> Issued:
    """A new party CA: an ECDSA P-256 key and its self-signed CA certificate."""
    _check_window(not_before, not_after)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(party, "CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return Issued(_pem_key(key), cert.public_bytes(serialization.Encoding.PEM))


def issue_node(
    ca: Issued,
    party: str,
    hosts: Iterable[str],
    *,
    not_before: datetime,
    not_after: datetime,
) -> Issued:
    """A new node key and certificate signed by ``ca``: serverAuth and clientAuth, with
    ``hosts`` (DNS names, IP addresses) as subjectAltName. It cannot outlive the CA."""
    _check_window(not_before, not_after)
    names = parse_hosts(hosts)
    ca_cert = load_cert(ca.cert, "tls_ca")
    ca_key = serialization.load_pem_private_key(ca.key, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise InvalidInput("tls_ca", "the CA key is not an ECDSA key")
    if not_after > ca_cert.not_valid_after_utc:
        raise InvalidInput(
            "days",
            f"the party CA expires on {ca_cert.not_valid_after_utc:%Y-%m-%d}; the node "
            "certificate cannot outlive it",
            hint="give fewer --days",
        )
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(party, "node"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(_pem_key(key), cert.public_bytes(serialization.Encoding.PEM))


def load_cert(pem: bytes, field: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise InvalidInput(field, f"not a PEM certificate: {exc}") from exc


def hosts_of(cert: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses a certificate holds."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n.value) for n in names if isinstance(n, x509.DNSName | x509.IPAddress)]


def describe(cert: x509.Certificate) -> dict[str, Any]:
    """What ``hotline tls show`` prints of one certificate."""
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "hosts": hosts_of(cert),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
    }


def ca_line(pem: str | None) -> str:
    """A pinned CA in one line: its subject and SHA-256 fingerprint."""
    if pem is None:
        return "none: plain http, no TLS CA to pin"
    info = describe(load_cert(pem.encode("ascii"), "tls_ca"))
    return f"{info['subject']}, SHA-256 {info['sha256']}"


def problems(ca: x509.Certificate, node: x509.Certificate, key: bytes, now: datetime) -> list[str]:
    """What is wrong with a node certificate, its key and its CA (empty: nothing)."""
    found = []
    try:
        node.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        found.append("the node certificate is not issued by the party CA")
    try:
        private = serialization.load_pem_private_key(key, password=None)
        if private.public_key() != node.public_key():
            found.append("the node key does not match the node certificate")
    except (ValueError, TypeError) as exc:
        found.append(f"the node key cannot be read: {exc}")
    for what, cert in (("party CA", ca), ("node certificate", node)):
        if now < cert.not_valid_before_utc:
            found.append(f"the {what} is not valid before {cert.not_valid_before_utc}")
        if now > cert.not_valid_after_utc:
            found.append(f"the {what} expired on {cert.not_valid_after_utc}")
    return found


# -- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """Where a node's TLS files lie. The CA's key lies next to its certificate (same
    name, ``.key``): only ``hotline tls issue`` reads it."""

    cert: Path
    key: Path
    ca: Path

    @property
    def ca_key(self) -> Path:
        return self.ca.with_suffix(".key")

    def read(self, path: Path, field: str) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise InvalidInput(
                field, f"cannot read {path}: {exc.strerror}", hint="see `hotline tls show`"
            ) from exc

    def ca_pem(self) -> str:
        """The party CA certificate (PEM), checked as a peer checks it."""
        return check_ca(self.read(self.ca, "tls_ca").decode("ascii", errors="replace"))


def tls_files(settings: Settings) -> TlsFiles | None:
    """The node's TLS files from ``tls_cert``, ``tls_key`` and ``tls_ca`` (relative to the
    node's home), or None when the node has no TLS. All three or none."""
    given = {"tls_cert": settings.tls_cert, "tls_key": settings.tls_key, "tls_ca": settings.tls_ca}
    if not any(given.values()):
        return None
    for name, value in given.items():
        if not value:
            raise InvalidInput(
                name,
                "is empty, but the other TLS settings are set: TLS needs all three",
                hint="`hotline tls init` writes them; or clear tls_cert, tls_key and tls_ca",
            )

    def resolve(value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else settings.home / path

    return TlsFiles(resolve(settings.tls_cert), resolve(settings.tls_key), resolve(settings.tls_ca))


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode``. Raises AlreadyExists if it is there."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise AlreadyExists(
            f"{path} exists: not overwritten", hint="renew with `hotline tls issue`"
        ) from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def replace_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` anew, atomically (a temporary file, synced, then renamed)."""
    temporary = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    write_new(temporary, data, mode)
    os.replace(temporary, path)


# -- SSL contexts ----------------------------------------------------------------------------


def _load_identity(context: ssl.SSLContext, files: TlsFiles) -> None:
    try:
        context.load_cert_chain(files.cert, files.key)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(
            "tls_cert",
            f"cannot load the node certificate {files.cert} with its key {files.key}: {exc}",
            hint="check them with `hotline tls show`; re-issue with `hotline tls issue`",
        ) from exc


def server_context(files: TlsFiles, *, client_certs: bool) -> ssl.SSLContext:
    """The node certificate as a server; ``client_certs``: every caller must show a
    certificate from a CA loaded later (:class:`Trust`)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_identity(context, files)
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


def client_context(files: TlsFiles, peer_ca: str) -> ssl.SSLContext:
    """A client context that trusts ``peer_ca`` alone, checks the host name against the
    URL, and shows our node certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname checked, cert required
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.load_verify_locations(cadata=peer_ca)
    _load_identity(context, files)
    return context


class Trust:
    """The CAs the listen port accepts client certificates from: our own and every
    pinned peer's. OpenSSL reads a context's trust store at each handshake, so CAs added
    to the live context count for the next connection; removing one needs a restart."""

    def __init__(
        self, context: ssl.SSLContext, own_ca: str, pinned: Callable[[], Mapping[str, str]]
    ) -> None:
        self.context = context
        self.pinned = pinned
        self._loaded: set[str] = set()
        self._add(own_ca)
        self.refresh()

    def _add(self, pem: str) -> bool:
        if pem in self._loaded:
            return False
        self.context.load_verify_locations(cadata=pem)
        self._loaded.add(pem)
        return True

    def refresh(self) -> list[str]:
        """Trust the CAs pinned since the last call; the parties newly trusted."""
        added = []
        for party, pem in sorted(self.pinned().items()):
            try:
                if self._add(pem):
                    added.append(party)
            except ssl.SSLError as exc:
                log.warning("the TLS CA pinned for %s cannot be loaded: %s", party, exc)
        return added

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(REFRESH_S):
            try:
                for party in self.refresh():
                    log.info("client certificates from %s's CA are accepted now", party)
            except Exception:
                log.exception("re-reading the pinned TLS CAs failed")


# -- the client side -------------------------------------------------------------------------


class NodeHttp(httpx.Client):
    """The node's HTTP client for its peers: plain http as any httpx client; for a peer
    reached over https, one client per peer that trusts only its pinned CA and shows our
    node certificate (:func:`peer_http`)."""

    def __init__(self, files: TlsFiles | None, *, timeout: httpx.Timeout) -> None:
        super().__init__(timeout=timeout)
        self.files = files
        self._lock = threading.Lock()
        self._peers: dict[str, tuple[str, httpx.Client]] = {}
        self._retired: list[httpx.Client] = []

    def for_peer(self, party: str, ca: str) -> httpx.Client:
        with self._lock:
            found = self._peers.get(party)
            if found is not None and found[0] == ca:
                return found[1]
            if self.files is None:
                raise PeerUnavailable(f"{party}: this node has no TLS certificate")
            client = httpx.Client(timeout=self.timeout, verify=client_context(self.files, ca))
            if found is not None:  # its CA changed; another thread may still be using it
                self._retired.append(found[1])
            self._peers[party] = (ca, client)
            return client

    def close(self) -> None:
        with self._lock:
            for client in [*(c for _, c in self._peers.values()), *self._retired]:
                client.close()
            self._peers.clear()
            self._retired.clear()
        super().close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        # httpx.Client.__exit__ closes its own transport only, not the peers' clients.
        self.close()


def node_http(settings: Settings, *, timeout: httpx.Timeout) -> NodeHttp:
    """The HTTP client ``serve`` and the CLI reach peers with."""
    return NodeHttp(tls_files(settings), timeout=timeout)


def peer_http(http: httpx.Client, party: str, urls: Sequence[str], ca: str | None) -> httpx.Client:
    """The client to reach ``party`` on ``urls`` with: ``http`` when every URL is plain
    http; else one that trusts only the party's pinned CA ``ca``. Raises PeerUnavailable
    when no CA is pinned (no fallback to other CAs) or there is no node certificate."""
    if not any(urlsplit(u).scheme == "https" for u in urls):
        return http
    if ca is None:
        raise PeerUnavailable(
            f"{party} is reached over https, but no TLS CA is pinned for it (its bundle "
            "carries none), and no other CA is trusted",
            hint=f"import a bundle {party} exported after `hotline tls init` on its node",
        )
    if not isinstance(http, NodeHttp) or http.files is None:
        raise PeerUnavailable(
            f"{party} is reached over https, which needs this node's TLS certificate, and "
            "none was given",
            hint="`hotline tls init --host HOST` on this node, then restart `hotline serve`",
        )
    return http.for_peer(party, ca)


_EXPLAINED = {
    "unable to get local issuer certificate": "its certificate is not issued by its pinned CA",
    "self-signed certificate in certificate chain": "its certificate is not from its pinned CA",
    "certificate has expired": "its certificate has expired",
    "certificate is not yet valid": "its certificate is not valid yet",
    "TLSV1_ALERT_UNKNOWN_CA": "it refused our certificate: it has not pinned our CA",
    "SSLV3_ALERT_BAD_CERTIFICATE": "it refused our certificate",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "it refused our certificate as expired",
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "it asks for a client certificate",
    "WRONG_VERSION_NUMBER": "it does not speak TLS on this port",
}


#: A node that refuses a caller's certificate sends no TLS alert saying why: asyncio and
#: uvloop close the connection without sending the alert OpenSSL wrote. With TLS 1.3 the
#: caller's handshake is over by then, so all it sees is its https request unanswered.
_REFUSED_SILENTLY = (
    "it closed the connection without answering: it most likely refused our certificate "
    "(it has not pinned our CA, or ours has expired or is not valid yet; "
    "see `hotline tls show`)"
)


def explain(exc: BaseException) -> str:
    """A transport failure in words; a TLS one says which side refused what."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            text = f"{seen.reason or ''} {getattr(seen, 'verify_message', '') or ''} {seen}"
            for needle, meaning in _EXPLAINED.items():
                if needle in text:
                    return f"TLS: {meaning} ({seen})"
            if "mismatch" in text:
                return f"TLS: its certificate does not name this host ({seen})"
            return f"TLS: {seen}"
        seen = seen.__cause__ or seen.__context__
    if _closed_over_https(exc):
        return f"TLS: {_REFUSED_SILENTLY} ({exc.__class__.__name__}: {exc})"
    return f"{exc.__class__.__name__}: {exc}"


def _closed_over_https(exc: BaseException) -> bool:
    """An https request the server closed the connection on, with no answer."""
    if isinstance(exc, httpx.RemoteProtocolError):
        closed = "without sending a response" in str(exc)
    elif isinstance(exc, httpx.ReadError | httpx.WriteError):
        closed, seen = False, exc.__cause__ or exc.__context__
        while seen is not None and not closed:  # a reset or a broken pipe, not a timeout
            closed = isinstance(seen, ConnectionError)
            seen = seen.__cause__ or seen.__context__
    else:
        return False
    try:
        return closed and exc.request.url.scheme == "https"
    except RuntimeError:  # raised outside a client: no request to tell the scheme
        return False


# -- the server side -------------------------------------------------------------------------


class ConsoleOnly:
    """The node's app on the console port: everything but the federation API."""

    def __init__(self, app: Any, listen: str) -> None:
        self.app = app
        self.listen = listen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        federation = path == FEDERATION_PATH or path.startswith(FEDERATION_PATH + "/")
        if not federation or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            answer = JSONResponse(
                {
                    "error": "the federation API is not served on the console port",
                    "hint": f"peers reach it on the node's listen port ({self.listen}), "
                    "with a client certificate",
                },
                status_code=404,
            )
            await answer(scope, receive, send)


class _ConsoleServer(uvicorn.Server):
    """The console port's server; the main server takes the signals for both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Serving:
    """How ``hotline serve`` serves: ``listen``, plain HTTP or (with TLS) HTTPS asking
    for client certificates; and the console port when ``console_listen`` is set. The
    certificates are loaded here, so a bad file stops the node before it starts."""

    def __init__(
        self, settings: Settings, listen: str, pinned: Callable[[], Mapping[str, str]]
    ) -> None:
        from hotline.federation.server import parse_listen

        self.files = tls_files(settings)
        self.listen = listen
        self.console = parse_listen(settings.console_listen) if settings.console_listen else None
        self.trust: Trust | None = None
        self._listen_ssl: ssl.SSLContext | None = None
        self._console_ssl: ssl.SSLContext | None = None
        if self.files is not None:
            own = self.files.ca_pem()
            self._listen_ssl = server_context(self.files, client_certs=True)
            self._console_ssl = server_context(self.files, client_certs=False)
            self.trust = Trust(self._listen_ssl, own, pinned)

    @property
    def scheme(self) -> str:
        return "http" if self.files is None else "https"

    def http(self, *, timeout: httpx.Timeout) -> NodeHttp:
        return NodeHttp(self.files, timeout=timeout)

    def options(self, context: ssl.SSLContext | None = None) -> dict[str, Any]:
        """uvicorn.Config arguments serving ``context`` (default: the listen port's)."""
        chosen = context or self._listen_ssl
        if chosen is None:
            return {}
        return {"ssl_context_factory": lambda config, default: chosen}

    def run(
        self,
        server: uvicorn.Server,
        sockets: Sequence[socket.socket] | None,
        console_sockets: Sequence[socket.socket] | None,
        announce: Callable[[str], None],
    ) -> None:
        """Run ``server`` (the listen port), and the console port beside it, until the
        main server stops; re-read the pinned CAs meanwhile."""
        stop = threading.Event()
        if self.trust is not None:
            threading.Thread(
                target=self.trust.watch, args=(stop,), name="tls trust", daemon=True
            ).start()
        try:
            if self.console is None:
                server.run(sockets=list(sockets) if sockets else None)
                return
            self._run_both(server, sockets, console_sockets, announce)
        finally:
            stop.set()

    def _run_both(
        self,
        server: uvicorn.Server,
        sockets: Sequence[socket.socket] | None,
        console_sockets: Sequence[socket.socket] | None,
        announce: Callable[[str], None],
    ) -> None:
        from hotline.federation.supervisor import bind

        assert self.console is not None
        host, port = self.console
        bound = [] if console_sockets else [bind(host, port)]
        listening = list(console_sockets or bound)
        console = _ConsoleServer(
            uvicorn.Config(
                ConsoleOnly(server.config.app, self.listen),
                log_level="warning",
                access_log=False,
                lifespan="off",
                **(self.options(self._console_ssl) if self._console_ssl else {}),
            )
        )
        announce(
            f"console, API, /health, /ready, /metrics and /ingest on "
            f"{self.scheme}://{host}:{port} (no client certificate; the federation API is "
            f"on {self.listen} only)"
        )

        async def both() -> None:
            side = asyncio.create_task(console.serve(sockets=listening))
            try:
                await server.serve(sockets=list(sockets) if sockets else None)
            finally:
                console.should_exit = True
                await side

        factory = getattr(server.config, "get_loop_factory", lambda: None)()
        try:
            with asyncio.Runner(loop_factory=factory) as runner:
                runner.run(both())
        finally:
            for sock in bound:
                sock.close()


def utc_now() -> datetime:
    """Certificates are checked against the system clock, whatever clock the node keeps."""
    return datetime.now(UTC)
