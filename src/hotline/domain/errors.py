"""The one error tree of hotline.

Every failure a user can meet is one of these. Each error carries a message that says
what was wrong and, where there is one, a ``hint`` that says what to do. Domain errors
carry no HTTP status and no exit code: the adapters (``cli.py``, later ``api/``) map
them in one place each.

::

    HotlineError
    ├── InvalidInput            a value is malformed (bad id, area, precedence, time...)
    ├── NotFound                an id names nothing stored
    ├── AlreadyExists           the thing is already there
    ├── Refused                 well-formed, but a rule forbids it
    │   ├── PolicyRefused       a line's policy refuses it (kind, principal, size)
    │   ├── LineNotActive       the line's terms are not signed by every party yet
    │   ├── AlreadyAcknowledged the party has already acknowledged the message
    │   ├── ChainHalted         this node's own chain is behind what a peer holds or has
    │   │                       receipted (a rollback): it signs nothing there until recovered
    │   ├── RequestRefused      a peer's request failed authentication (signature, time,
    │   │                       replay) or an event it carried was refused
    │   ├── Forbidden           the signed-in principal may not do or see this
    │   └── TooManyAttempts     too many failed sign-ins: wait
    ├── NotAuthenticated        no valid session or token (sign in)
    ├── KeyUnavailable          this node does not hold the private key needed to sign
    ├── ChainConflict           an append would break a chain (stale head, fork, gap)
    ├── IntegrityFailure        stored data failed verification
    ├── StorageUnavailable      the database cannot be opened or has the wrong schema
    └── PeerUnavailable         no transport URL of a peer answered
"""

from __future__ import annotations

from typing import Any


class HotlineError(Exception):
    """Base of every hotline error. ``str(err)`` is the message; ``err.hint`` what to do."""

    #: Seconds after which trying again may succeed (a throttle, an outage), if known.
    retry_after: float | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: Facts a program can act on without parsing the message (by name, JSON values).
        self.extra: dict[str, Any] = {}

    def __str__(self) -> str:
        return self.message


class InvalidInput(HotlineError):
    """A value given by a user or a peer is malformed."""

    def __init__(self, field: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{field}: {message}", hint=hint)
        self.field = field


class NotFound(HotlineError):
    """An identifier names nothing this node holds."""

    def __init__(self, what: str, ident: str, *, hint: str | None = None) -> None:
        super().__init__(f"unknown {what} {ident!r}", hint=hint)
        self.what = what
        self.ident = ident


class AlreadyExists(HotlineError):
    """Creating something that is already there."""


class Refused(HotlineError):
    """Well-formed, but a rule forbids it."""


class PolicyRefused(Refused):
    """A line's policy refuses the action (message kind, principal, size)."""

    def __init__(
        self, message: str, *, hint: str | None = None, alternatives: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.alternatives = alternatives


class LineNotActive(Refused):
    """The line exists as a proposal; not every party has signed its terms."""


class AlreadyAcknowledged(Refused):
    """The acknowledging party has already acknowledged this message."""


class ChainHalted(Refused):
    """This node's own chain on a line stands behind what a peer holds or has receipted
    (an old backup restored, or events removed): a new event would fork it, so nothing is
    signed there until its events are recovered from the peer."""

    def __init__(self, message: str, *, line: str, party: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.line = line
        self.party = party


class KeyUnavailable(HotlineError):
    """This node does not hold the private key needed to sign for that author."""


class ChainConflict(HotlineError):
    """An append would fork or gap a chain, or the chain head moved meanwhile."""


class IntegrityFailure(HotlineError):
    """Stored data failed verification."""


class StorageUnavailable(HotlineError):
    """The database cannot be opened, or its schema is not the one this code needs."""


class RequestRefused(Refused):
    """A peer's request or an event it carried is refused; ``reason`` is a short code
    (``bad signature``, ``stale``, ``replay``, ``unknown party``, ``fork``...)."""

    def __init__(self, reason: str, detail: str, *, hint: str | None = None) -> None:
        super().__init__(f"{reason}: {detail}", hint=hint)
        self.reason = reason
        self.detail = detail


class PeerUnavailable(HotlineError):
    """No transport URL of a peer answered, or its answer could not be trusted."""


class Forbidden(Refused):
    """The signed-in principal may not do or see this (party, line or role)."""


class TooManyAttempts(Refused):
    """Too many failed sign-ins for a principal in a short time."""


class NotAuthenticated(HotlineError):
    """No valid session or API token: the caller must sign in."""
