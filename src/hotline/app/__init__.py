"""Composition root: builds the settings, the engine, the store and the services (see
:mod:`hotline.app.node`), and over a node its workers (:mod:`hotline.app.workers`) and
what is read and served of it (:mod:`hotline.app.http`).

Nothing else wires components together, and nothing below this package reads the
environment: ``open_node`` and ``init_node`` are given it.
"""

from hotline.app.http import federation_app, node_incidents, node_record
from hotline.app.node import (
    Ledger,
    Node,
    SystemClock,
    clock_of,
    database_engine,
    init_node,
    open_ledger,
    open_node,
    own_mail,
)
from hotline.app.workers import checkpoint_round, federation, mail_path, track_writers

__all__ = [
    "Ledger",
    "Node",
    "SystemClock",
    "checkpoint_round",
    "clock_of",
    "database_engine",
    "federation",
    "federation_app",
    "init_node",
    "mail_path",
    "node_incidents",
    "node_record",
    "open_ledger",
    "open_node",
    "own_mail",
    "track_writers",
]
