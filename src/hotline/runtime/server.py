"""`hotline serve`: the node's HTTP API, its background loops and its listeners in one
process."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
import warnings
from collections.abc import Callable, Sequence
from datetime import timedelta

import uvicorn

from hotline.app import Node, checkpoint_round, federation, federation_app, track_writers
from hotline.exercise.stepping import stepped_loops
from hotline.federation.tls import PEER_TIMEOUT
from hotline.ingest.listener import CotLimits, CotListener
from hotline.runtime.leases import Leased
from hotline.runtime.logs import AccessLog, announcer, configure_logging
from hotline.runtime.loops import run_loop
from hotline.runtime.serving import Serving
from hotline.runtime.sockets import parse_listen
from hotline.storage.commit_watch import CommitWatch
from hotline.storage.leases import LeaseStore

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: How often the evidence round looks for minutes to commit (each a few seconds after it
#: ends) and for positions past ``evidence_keep``.
EVIDENCE_ROUND = timedelta(seconds=5)
#: How often the node looks for a roll call to ask, or one to record unanswered.
ROLL_CALL_ROUND = timedelta(seconds=2)
#: Pause between rounds of the mailbox (each waits in IMAP IDLE itself).
MAILBOX_ROUND = timedelta(milliseconds=100)


def _evidence_round(node: Node) -> object:
    """Commit the minutes of evidence that are over; forget positions past keeping."""
    return node.evidence.round(node.writer.now(), node.settings.evidence_keep)


#: How often track history is thinned and old days dropped.
HISTORY_ROUND = timedelta(minutes=10)


def _history_round(node: Node) -> object:
    """Thin the hour of history that aged past ``history_thin_after`` (again: thinning
    twice changes nothing) and drop what is past ``history_keep``."""
    settings = node.settings
    now = node.writer.now()
    thinned = node.history.thin(
        now - settings.history_thin_after,
        settings.history_thin_interval,
        timedelta(hours=1) + HISTORY_ROUND,
    )
    return thinned + node.history.prune(now - settings.history_keep)


#: How often the checkpoint round looks for checkpoints to sign, offer and submit (those
#: not cosigned yet are offered again each round).
CHECKPOINT_ROUND = timedelta(seconds=5)


class _Stopped(Exception):
    """Raised by the stop signal once the server has shut down."""


def _stop_quietly(signum: int, frame: object) -> None:
    raise _Stopped(signum)


def _idle(result: object) -> bool:
    """Pause after every step (the loops other than delivery)."""
    return False


def holder_name() -> str:
    """Who holds a lease: this host and process, unique across restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def serve(
    node: Node,
    listen: str,
    *,
    announce: Callable[[str], None] = print,
    sockets: Sequence[socket.socket] | None = None,
    cot: bool = True,
    console_sockets: Sequence[socket.socket] | None = None,
) -> None:
    """Serve the federation API and run delivery, catch-up, link tests, the escalation
    scheduler and the awareness rules until stopped (SIGINT or SIGTERM). Workers survive
    errors; they stop with the server.

    Each background loop runs only while this process holds its lease in the database, so
    several processes (``serve --workers N``, or several sites of one party on one
    database) share them: one runs each, and another takes over when it dies. ``sockets``
    are already listening (the workers' supervisor binds them); ``cot`` says whether this
    process runs the Cursor on Target listener. With TLS settings ``listen`` is HTTPS and
    asks for client certificates; ``console_listen`` (on ``console_sockets`` when given)
    serves the console without them (see :mod:`hotline.runtime.serving`)."""
    host, port = parse_listen(listen)
    configure_logging(node.settings.log_format)
    announce = announcer(node.settings.log_format, announce)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()
    holder = holder_name()
    store = LeaseStore(node.peers.engine)
    ttl = node.settings.lease_ttl.total_seconds()
    serving = Serving(node.settings, listen, node.peers.pinned_cas)
    with serving.http(timeout=PEER_TIMEOUT) as http:
        fed = federation(node, http)
        timing = fed.timing
        loops = {
            "delivery": (fed.deliver_once, timing.idle, bool, fed.wake),
            "catch-up": (fed.catch_up_once, timing.catchup_interval, _idle, None),
            "link tests": (fed.linktest_once, timedelta(seconds=1), _idle, None),
            "escalation": (node.escalations.tick, node.settings.escalation_interval, _idle, None),
            "paging": (node.pager.tick, node.settings.paging_interval, _idle, None),
            "roll calls": (node.rollcalls.tick, ROLL_CALL_ROUND, _idle, None),
            "checkpoints": (
                checkpoint_round(node, fed, http).once,
                min(node.settings.checkpoint_interval, CHECKPOINT_ROUND),
                _idle,
                None,
            ),
            "awareness": (
                lambda: node.awareness.evaluate(node.writer.now()),
                node.settings.awareness_interval,
                _idle,
                None,
            ),
            "evidence": (
                lambda: _evidence_round(node),
                EVIDENCE_ROUND,
                _idle,
                None,
            ),
            "history": (
                lambda: _history_round(node),
                HISTORY_ROUND,
                _idle,
                None,
            ),
        }
        if fed.mail is not None:  # batches from peers by e-mail: it waits in IMAP IDLE
            loops["mailbox"] = (fed.mail.receive_once, MAILBOX_ROUND, bool, None)
        # On an exercise's scenario clock the loops report their rounds; on a stepped
        # one they act once per step of it (hotline.exercise.stepping).
        loops = stepped_loops(
            node.writer.clock,
            node.party,
            lambda: node.escalations.engine,
            loops,
            timing.linktest_interval,
        )
        leased = [
            Leased(store, name, holder, ttl, step, on_gain=gain)
            for name, (step, _, _, gain) in loops.items()
        ]
        # delivery sleeps until something is committed (or a retry falls due)
        commits = CommitWatch(node.store)
        waits = {"delivery": lambda _: commits.wait(fed.pause())}
        threads = [
            threading.Thread(
                target=run_loop,
                args=(stop, job, pause, busy, waits.get(name)),
                name=name,
                daemon=True,
            )
            for job, (name, (_, pause, busy, _)) in zip(leased, loops.items(), strict=True)
        ]
        # each process writes the refusals it counted (not leased: every worker counts)
        threads.append(
            threading.Thread(
                target=run_loop,
                args=(stop, node.refusals.flush, timedelta(seconds=1)),
                name="refusals",
                daemon=True,
            )
        )
        app = federation_app(node)
        server = uvicorn.Server(
            uvicorn.Config(
                AccessLog(app) if node.settings.access_log else app,
                host=host,
                port=port,
                log_level="warning",
                log_config=None,  # uvicorn's lines through the node's handler (JSON or text)
                access_log=False,  # AccessLog writes it, with the duration
                lifespan="off",
                **serving.options(),
            )
        )
        listener = None
        if cot and node.settings.cot_listen:
            cot_host, cot_port = parse_listen(node.settings.cot_listen)
            listener = CotListener(
                cot_host,
                cot_port,
                node.settings.cot_parties,
                node.ingest,
                limits=CotLimits.from_settings(node.settings),
            )
            listener.start()
            announce(f"listening for Cursor on Target on {cot_host}:{listener.port} (TCP, UDP)")
        writers = track_writers(node)
        if writers is not None:
            writers.start()
            announce(
                f"{len(writers.workers)} track writer(s) taking tracks from "
                f"{writers.names.subject} on {node.settings.nats_url}"
            )
        node.writer.group.start()  # sends and acks from the API share commits
        commits.start()
        for thread in threads:
            thread.start()
        announce(
            f"node {node.party} serving on {serving.scheme}://{host}:{port} "
            f"(federation API under /federation/v1); Ctrl-C stops it"
        )
        # uvicorn restores the handlers it found and raises the signal again once it has
        # shut down; with these in place that ends here, so the workers stop cleanly.
        previous = {sig: signal.signal(sig, _stop_quietly) for sig in STOP_SIGNALS}
        # told to stop before uvicorn's server coroutine began (a worker stopped while it
        # starts): the coroutine is dropped unstarted, which loses nothing
        warnings.filterwarnings(
            "ignore", message="coroutine 'Server.serve' was never awaited", category=RuntimeWarning
        )
        try:
            serving.run(server, sockets, console_sockets, announce)
        except _Stopped:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            stop.set()
            commits.stop()
            node.writer.group.stop()
            if listener is not None:
                listener.stop()
            if writers is not None:
                writers.stop()
            for thread in threads:
                thread.join(timeout=10)
            for job in leased:
                job.release()
            node.refusals.flush(force=True)
