"""Tables kept in memory with the version of them they were read at.

Some tables are read on every write, commit or request and change seldom: the lines
(every append reads them), the peers (delivery reads them after every commit), the
parties and their node keys (every signed request from a peer reads one). The database
keeps a version of each, a ``node_info`` value that its own triggers change whenever a
row of the table changes, whoever changes it (migrations 0013 and 0014). A reader reads
that one value and reads the table again only when it has moved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from hotline.storage.hot import HotStatements

#: The node_info key changed whenever a line or a line's party changes (migration 0013).
LINES_VERSION = "lines:version"
#: The node_info key changed whenever a peer is pinned, changed or removed (migration 0014).
PEERS_VERSION = "peers:version"
#: The node_info key changed whenever a party, or anyone's key, changes (migration 0014).
PARTIES_VERSION = "parties:version"
#: Every version key: written by the database itself, so never backed up nor restored.
VERSIONS = frozenset({LINES_VERSION, PEERS_VERSION, PARTIES_VERSION})

T = TypeVar("T")
_UNREAD = object()


class Versioned(Generic[T]):
    """What ``load`` last read of a table, with the version (node_info ``key``) it was
    read at: read again only once a change, in this process or another, moved it."""

    def __init__(self, key: str, load: Callable[[Connection], T]) -> None:
        self.key = key
        self._load = load
        self._held: tuple[object, T | None] = (_UNREAD, None)

    def read(self, c: Connection) -> T:
        """The table as ``c`` sees it (``c`` must hold no uncommitted change of its own
        to the table: that would be kept under a version other processes never see)."""
        found = HotStatements(c).info(self.key)  # first: a change after it reads again
        version = None if found is None else found[0]
        held, value = self._held
        if held != version:  # never read (_UNREAD equals no version), or moved since
            value = self._load(c)
            self._held = (version, value)
        return value  # type: ignore[return-value]  # set with its version above
