"""The federation API under ``/federation/v1``, served by each node to its peers.

Every request must be signed by a pinned peer's node key, per RFC 9421 (see
``domain/http_signatures.py``) or, for one release, in the legacy scheme (see
``domain/requests.py``): a request carrying ``Signature``/``Signature-Input`` is checked
as RFC 9421, any other by the legacy headers. Every answer, refusals included, is signed
by this node, in the scheme of the request it answers. Refused requests are recorded
(see ``services/refusals.py``: counted per address while the sender is unproven, and an
address past the limit is answered 429 before its requests are read). A peer sees only
the lines it is a party of.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hotline.domain import http_signatures
from hotline.domain.clock import Clock, format_time
from hotline.domain.crypto import PublicKey
from hotline.domain.errors import (
    HotlineError,
    InvalidInput,
    NotFound,
    PeerUnavailable,
    RequestRefused,
    StorageUnavailable,
)
from hotline.domain.json_input import parse_json
from hotline.domain.notes import b64decode_std, parse_checkpoint, parse_note
from hotline.domain.proofs import parse_origin
from hotline.domain.requests import AuthenticRequest, check_request, screen_request, sign_answer
from hotline.domain.rotation import ROTATION_HEADER
from hotline.federation.client import PREFIX, decode_events, encode_events, encode_stored
from hotline.http.limits import BodyTooLarge, bounded_int
from hotline.services.checkpoints import Checkpoints
from hotline.services.outages import Outages
from hotline.services.receiver import NonceUse, Receiver
from hotline.services.refusals import PROVEN, Refusals
from hotline.services.rotations import NodeRotations
from hotline.services.writer import LedgerWriter
from hotline.storage.peers import PeerStore

log = logging.getLogger("hotline.federation")

PULL_LIMIT = 1000
#: The most events of this node's own chain an answer to a push carries (those after
#: what the pusher says it holds: the new receipt, and any it lacks before it).
ANSWER_EVENTS = 50


def as_refusal(exc: InvalidInput | RequestRefused) -> RequestRefused:
    """A peer's bad request as a refusal on record (bad input is ``malformed``)."""
    return exc if isinstance(exc, RequestRefused) else RequestRefused("malformed", exc.message)


def refusal(exc: HotlineError | BodyTooLarge, *, authenticated: bool) -> tuple[int, str, str]:
    """What the federation API answers to an error: (status, error, detail). The one
    place its errors become statuses; every answer is signed all the same.

    Before the request is proven to come from a pinned peer, a refusal is 401; after,
    bad input is 400 and a refusal by policy 403. A body over its limit is 413, a line cut
    by an outage drill 503. What fails on this side (a damaged record, a database out of
    reach) is 500 or 503: never the peer's fault, never on its record."""
    if isinstance(exc, BodyTooLarge):
        return 413, "too large", exc.message
    if isinstance(exc, InvalidInput | RequestRefused):
        refused = as_refusal(exc)
        if not authenticated:
            return 401, refused.reason, refused.detail
        return (400 if refused.reason == "malformed" else 403), refused.reason, refused.detail
    if isinstance(exc, PeerUnavailable):
        return 503, "outage", exc.message
    if isinstance(exc, StorageUnavailable):
        return 503, "unavailable", exc.message
    return 500, "internal", "the node failed to answer; its operators are told"


@dataclass
class FederationContext:
    party: str
    writer: LedgerWriter
    peers: PeerStore
    receiver: Receiver
    clock: Clock
    skew: timedelta
    refusals: Refusals
    outages: Outages | None = None
    checkpoints: Checkpoints | None = None


def client_of(request: Request) -> str:
    """The address a request came from, as the server saw it."""
    return request.client.host if request.client else "unknown"


def signed_view(request: Request) -> http_signatures.HttpRequest:
    """The request as its RFC 9421 signature sees it: method, the URL with the authority
    of its ``Host`` header (what the sender addressed) and the path and query as they came
    on the wire, and its header fields."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    host = request.headers.get("host", "")
    url = f"{request.url.scheme}://{host}{raw_path.decode('latin-1')}"
    if query:
        url += "?" + query.decode("latin-1")
    headers = http_signatures.lower(request.headers.items())
    return http_signatures.HttpRequest(request.method, url, headers)


def claimed_party(request: Request) -> str:
    """The party a request says it comes from, unproven."""
    headers = http_signatures.lower(request.headers.items())
    if http_signatures.is_signed(headers):
        return http_signatures.claimed_sender(headers)
    return headers.get("hotline-party", "")


def create_app(ctx: FederationContext) -> FastAPI:
    """The node's HTTP app, with the federation API mounted."""
    app = FastAPI(title="hotline node", docs_url=None, redoc_url=None, openapi_url=None)
    store = ctx.writer.store
    rotations = NodeRotations(ctx.writer, ctx.party)
    refusals = ctx.refusals

    def answer(
        status: int, payload: Any, request: Request, headers: dict[str, str] | None = None
    ) -> Response:
        """A signed answer to ``request``, in the scheme the request was signed in."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        statements = rotations.header()
        view = signed_view(request)
        if http_signatures.is_signed(view.headers):
            signed = http_signatures.sign_answer(
                ctx.writer.key(ctx.party),
                status=status,
                body=body,
                sender=ctx.party,
                request=view,
                now=ctx.clock.now(),
            )
        else:
            signed = sign_answer(
                ctx.writer.key(ctx.party),
                status=status,
                body=body,
                sender=ctx.party,
                request_nonce=view.headers.get("hotline-nonce", ""),
                now=ctx.clock.now(),
            )
        if statements:
            signed[ROTATION_HEADER] = statements
        return Response(
            body,
            status_code=status,
            media_type="application/json",
            headers={**signed, **(headers or {})},
        )

    def node_key_of(party: str) -> PublicKey | None:
        try:
            found = store.party(party)
        except NotFound:
            return None
        return None if found.hosted else found.node_key

    def authenticate(request: Request, body: bytes, spend: bool = True) -> AuthenticRequest:
        """The request's proven sender. ``spend``: record its nonce now (a handler that
        writes records it in its own commit, see :class:`NonceUse`)."""
        now = ctx.clock.now()
        view = signed_view(request)
        headers = view.headers
        rfc9421 = http_signatures.is_signed(headers)
        try:
            path = []
            sender = claimed_party(request)
            pinned = node_key_of(sender) if headers.get(ROTATION_HEADER) else None
            if pinned is not None:  # the sender's node may have rotated its key
                path = rotations.follow(sender, pinned, headers[ROTATION_HEADER])
            newest = path[-1].new_key if path else None
            key_of = node_key_of if newest is None else (lambda _: newest)
            if rfc9421:
                auth = http_signatures.check_request(
                    view, body=body, recipient=ctx.party, now=now, skew=ctx.skew, node_key_of=key_of
                )
            else:
                auth = check_request(
                    headers,
                    method=request.method,
                    path=request.url.path,
                    query=request.url.query,
                    body=body,
                    recipient=ctx.party,
                    now=now,
                    skew=ctx.skew,
                    node_key_of=key_of,
                )
            if path:  # proven: the request is signed by the newest key
                rotations.pin(auth.sender, path)
            if spend and not ctx.peers.use_nonce(
                auth.sender, auth.nonce, format_time(now), format_time(now - 2 * ctx.skew)
            ):
                raise RequestRefused("replay", f"nonce {auth.nonce} was used before")
        except RequestRefused as refused:
            record(request, refused)
            raise
        return auth

    def record(request: Request, refused: RequestRefused) -> None:
        claimed = claimed_party(request)
        if refused.reason in PROVEN:  # its node signature verified
            refusals.proven(
                peer=claimed, client=client_of(request), kind="request", refused=refused
            )
        else:
            refusals.unproven(client_of(request), claimed, refused)

    def screen(request: Request) -> None:
        """Refuse from the headers alone what needs no body: unsigned, unknown party."""
        headers = http_signatures.lower(request.headers.items())
        try:
            if http_signatures.is_signed(headers):
                http_signatures.screen_request(headers, node_key_of)
            else:
                screen_request(headers, node_key_of)
        except RequestRefused as refused:
            record(request, refused)
            raise

    def refused(request: Request, exc: HotlineError | BodyTooLarge, *, peer: bool) -> Response:
        """The signed answer to what was refused, from the one table (:func:`refusal`)."""
        status, error, detail = refusal(exc, authenticated=peer)
        if status >= 500:
            log.error("a federation request failed on this node: %s", exc)
        return answer(status, {"error": error, "detail": detail}, request)

    async def guarded(request: Request, handle: Any, spends: bool = False) -> Response:
        """``handle(auth, request, body)`` for an authentic request. ``spends``: the
        handler records the request's nonce with what it writes."""
        wait = refusals.retry_after(client_of(request))
        if wait is not None:  # this address has had its refusals for the minute
            refusals.limited(client_of(request))
            return answer(
                429,
                {
                    "error": "rate limited",
                    "detail": f"too many refused requests from this address; retry in {wait} s",
                },
                request,
                {"Retry-After": str(wait)},
            )
        try:
            # before the body is read: a stranger's bytes cost us nothing
            await run_in_threadpool(screen, request)
            body = await request.body()
            auth = await run_in_threadpool(authenticate, request, body, not spends)
        except (HotlineError, BodyTooLarge) as exc:
            return refused(request, exc, peer=False)
        try:
            if ctx.outages is not None:
                ctx.outages.check(auth.sender)
            status, payload = await run_in_threadpool(handle, auth, request, body)
        except HotlineError as exc:
            if isinstance(exc, InvalidInput | RequestRefused):  # the peer's fault: on record
                await run_in_threadpool(
                    refusals.proven,
                    peer=auth.sender,
                    client=client_of(request),
                    kind="request",
                    refused=as_refusal(exc),
                )
            # a replay is refused as before authentication, though the handler found it
            replay = isinstance(exc, RequestRefused) and exc.reason == "replay"
            return refused(request, exc, peer=not replay)
        return answer(status, payload, request)

    def shared_line(auth: AuthenticRequest, line_id: str) -> None:
        """Refuse alike a line that does not exist and one the caller is not on, so that
        a peer cannot learn which lines other parties have."""
        try:
            state = store.line(line_id)
        except NotFound:
            state = None
        if state is None or {auth.sender, ctx.party} - set(state.line.parties):
            raise RequestRefused("not a party", f"{auth.sender} is not a party of {line_id!r}")

    def push(auth: AuthenticRequest, _: Request, body: bytes) -> tuple[int, Any]:
        data = parse_json(body)
        if not (
            isinstance(data, dict)
            and isinstance(data.get("line"), str)
            and isinstance(data.get("party"), str)
            and "events" in data
        ):
            raise InvalidInput("body", "expected {line, party, events} (line and party strings)")
        line, party = data["line"], data["party"]
        items = decode_events(data["events"])
        try:
            shared_line(auth, line)
        except RequestRefused:
            if not items or store.has_line(line):  # only events can propose a line new here
                raise
        nonce = NonceUse(auth.nonce, format_time(ctx.clock.now() - 2 * ctx.skew))
        result = ctx.receiver.accept(auth.sender, line, party, items, nonce)
        ctx.peers.note_path(auth.sender, "https", "received", format_time(ctx.clock.now()))
        held = data.get("held")
        ours: list[tuple[bytes, bytes]] = []
        if (
            isinstance(held, dict)
            and type(held.get("seq")) is int
            and held["seq"] > 0
            and isinstance(held.get("id"), str)
        ):
            ours = ctx.receiver.note_held(
                auth.sender, line, held["seq"], held["id"], after=ANSWER_EVENTS
            )
        payload: dict[str, Any] = {
            "stored": result.stored,
            "duplicates": result.duplicates,
            "head": {"seq": result.head.seq, "id": result.head.id},
            "receipt": encode_events([result.receipt])[0] if result.receipt else None,
            # our chain after what the pusher holds: the receipt, and whatever it lacks
            # before it (a receipt of events this node pulled, say)
            "events": encode_stored(ours),
        }
        if result.refused is not None:
            payload.update(error=result.refused.reason, detail=result.refused.detail)
            return 422, payload
        if result.gap:
            payload.update(error="gap", detail=f"send from seq {result.head.seq + 1}")
            return 409, payload
        return 200, payload

    def pull(auth: AuthenticRequest, request: Request, _: bytes) -> tuple[int, Any]:
        params = request.query_params
        try:
            line, party = params["line"], params["party"]
        except KeyError as exc:
            raise InvalidInput("query", "expected line, party, after_seq, limit") from exc
        after = bounded_int(params.get("after_seq"), "after_seq", 0)
        limit = min(bounded_int(params.get("limit"), "limit", PULL_LIMIT, low=1), PULL_LIMIT)
        shared_line(auth, line)
        events = store.chain_bytes(line, party, after, limit)  # sent as stored, unread
        head = store.heads().get((line, party))
        return 200, {
            "events": encode_stored(events),
            "head": {"seq": head.seq if head else 0, "id": head.id if head else None},
        }

    def heads(auth: AuthenticRequest, _: Request, __: bytes) -> tuple[int, Any]:
        shared = {s.line.id for s in store.lines(auth.sender) if ctx.party in s.line.parties}
        chains = [
            {"line": line, "party": party, "seq": head.seq, "id": head.id}
            for (line, party), head in sorted(store.heads().items())
            if line in shared
        ]
        return 200, {"party": ctx.party, "chains": chains}

    def ping(auth: AuthenticRequest, _: Request, __: bytes) -> tuple[int, Any]:
        return 200, {"party": ctx.party, "to": auth.sender}

    def checkpoint(auth: AuthenticRequest, request: Request, body: bytes) -> tuple[int, Any]:
        """Cosign the sender's checkpoint of one of its chains (see
        :mod:`hotline.services.checkpoints`): 200 with the cosignature line; 409 while
        the events are not all here yet, or with the larger checkpoint of that chain this
        node cosigned before ("behind": the sender was rolled back); 422 when the
        checkpoint is not the chain held here (kept as evidence)."""
        data = parse_json(body)
        if not isinstance(data, dict) or not isinstance(data.get("note"), str):
            raise InvalidInput("body", "expected {note}: a signed checkpoint")
        if ctx.checkpoints is None:
            raise RequestRefused("not offered", "this node cosigns no checkpoints")
        text = data["note"]
        try:
            line, author = parse_origin(parse_checkpoint(parse_note(text).text).origin)
            pq = (
                (
                    b64decode_std(data["pq_key"], "pq_key"),
                    b64decode_std(data["pq_binding"], "pq_binding"),
                )
                if isinstance(data.get("pq_key"), str) and isinstance(data.get("pq_binding"), str)
                else None
            )
        except InvalidInput as exc:
            raise RequestRefused("malformed", exc.message) from exc
        shared_line(auth, line)
        try:
            done = ctx.checkpoints.cosign(auth.sender, text, pq)
        except RequestRefused as exc:
            if exc.reason == "not yet":
                return 409, {"error": exc.reason, "detail": exc.detail}
            refusals.proven(
                peer=auth.sender,
                client=client_of(request),
                kind="checkpoint",
                refused=exc,
                line=line,
                party=author,  # (the sender's own chain, or one it carries as mediator)
                raw=text.encode(),
            )
            return 422, {"error": exc.reason, "detail": exc.detail}
        if done.signature is None and done.held is not None:
            return 409, {
                "error": "behind",
                "detail": f"this node cosigned {author}'s checkpoint of {line} at size "
                f"{done.held.size} before: the chain was rolled back",
                "held": done.held.note,
            }
        return 200, {"cosignature": done.signature.line() if done.signature else None}

    @app.post(PREFIX + "/events")
    async def post_events(request: Request) -> Response:
        return await guarded(request, push, spends=True)

    @app.get(PREFIX + "/events")
    async def get_events(request: Request) -> Response:
        return await guarded(request, pull)

    @app.get(PREFIX + "/heads")
    async def get_heads(request: Request) -> Response:
        return await guarded(request, heads)

    @app.post(PREFIX + "/ping")
    async def post_ping(request: Request) -> Response:
        return await guarded(request, ping)

    @app.post(PREFIX + "/checkpoints")
    async def post_checkpoint(request: Request) -> Response:
        return await guarded(request, checkpoint)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "party": ctx.party}

    return app
