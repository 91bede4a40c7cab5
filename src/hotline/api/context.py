"""What the operator API is given to work with: the node's party, its language and
clock, the stores it reads and the services it calls, and nothing else of the node.

The composition root (:mod:`hotline.app`) builds one :class:`ApiContext` per app;
:func:`hotline.api.app.create_api` hands each router only the parts it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hotline.domain.clock import Clock, truncate_ms
from hotline.services.accounts import Accounts
from hotline.services.agreements import Agreements
from hotline.services.awareness import Awareness
from hotline.services.catalogues import Catalogues
from hotline.services.checkpoints import Checkpoints
from hotline.services.contacts import Contacts
from hotline.services.directory import Directory
from hotline.services.disclosures import Disclosures
from hotline.services.evidence import Evidence
from hotline.services.messages import Messages
from hotline.services.notices import Notices
from hotline.services.outages import Outages
from hotline.services.paging import Pager
from hotline.services.relays import Relays
from hotline.services.rollcalls import RollCalls
from hotline.services.translations import Translations
from hotline.services.watch import Watch
from hotline.storage.history import HistoryStore
from hotline.storage.peers import PeerStore
from hotline.storage.store import Store

#: The node's time as events record it (UTC, whole milliseconds).
Now = Callable[[], datetime]


@dataclass(frozen=True)
class ApiContext:
    """The operator API's view of a node.

    ``party``: the node's own party; ``language``: the node's language (setting
    ``language``), spoken to a principal who chose none; ``clock``: the node's clock (the
    exercise clock when one runs)."""

    party: str
    language: str
    clock: Clock
    store: Store
    peers: PeerStore
    accounts: Accounts
    directory: Directory
    messages: Messages
    catalogues: Catalogues
    translations: Translations
    notices: Notices
    contacts: Contacts
    relays: Relays
    watch: Watch
    pager: Pager
    rollcalls: RollCalls
    agreements: Agreements
    awareness: Awareness
    outages: Outages
    checkpoints: Checkpoints
    disclosures: Disclosures
    evidence: Evidence
    history: HistoryStore

    def now(self) -> datetime:
        """The node's time, as the ledger writer records it."""
        return truncate_ms(self.clock.now())
