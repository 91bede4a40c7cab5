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

import contextlib
import logging
import os
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from hotline.config import Settings
from hotline.domain.errors import AlreadyExists, InvalidInput, PeerUnavailable
from hotline.domain.peering import check_ca
from hotline.federation.certificates import (
    BACKDATE as BACKDATE,
)
from hotline.federation.certificates import (
    CA_DAYS as CA_DAYS,
)
from hotline.federation.certificates import (
    NODE_DAYS as NODE_DAYS,
)
from hotline.federation.certificates import (
    Issued as Issued,
)
from hotline.federation.certificates import (
    ca_line as ca_line,
)
from hotline.federation.certificates import (
    describe as describe,
)
from hotline.federation.certificates import (
    hosts_of as hosts_of,
)
from hotline.federation.certificates import (
    issue_node as issue_node,
)
from hotline.federation.certificates import (
    load_cert as load_cert,
)
from hotline.federation.certificates import (
    make_ca as make_ca,
)
from hotline.federation.certificates import (
    parse_hosts as parse_hosts,
)
from hotline.federation.certificates import (
    problems as problems,
)

log = logging.getLogger("hotline.tls")

#: How often the listen port re-reads the pinned CAs.
REFRESH_S = 3.0
#: How long a node waits for a peer: to connect, and for an answer.
PEER_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
#: File names in the node's keys folder (``hotline tls init``).
CA_CERT, CA_KEY, NODE_CERT, NODE_KEY = "tls-ca.pem", "tls-ca.key", "tls-node.pem", "tls-node.key"
FEDERATION_PATH = "/federation"


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


def utc_now() -> datetime:
    """Certificates are checked against the system clock, whatever clock the node keeps."""
    return datetime.now(UTC)
