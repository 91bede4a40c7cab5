"""Who may see and do what in the operator API, handed from :func:`create_api` to the
routers of the desks (notices, watch, relays, a line's record, reports, translations).

The checks are the app's own: a principal sees only the lines it is on (anything else
answers as if it did not exist, 404), auditors read and never write (403), and of the
node's internal data a principal sees only its own party's (403).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hotline.domain.events import Event
from hotline.domain.identity import Principal
from hotline.domain.policy import LineState


@dataclass(frozen=True)
class Access:
    """The access checks of :func:`hotline.api.app.create_api`."""

    lines_of: Callable[[Principal], list[LineState]]
    on_line: Callable[[Principal, str], LineState]
    visible: Callable[[Principal, Event], Event]
    writer: Callable[[Principal], None]
    own_party: Callable[[Principal], None]


def errors_of(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each error status it may answer, and when."""
    return {code: {"description": WHEN[code]} for code in codes}


WHEN = {
    400: "Malformed input: the error names the field and what is wrong with it.",
    401: "No valid session or token: sign in.",
    403: "The principal may not do this (an auditor writes nothing; another party's data).",
    404: "Not found, or not on any of the principal's lines.",
    409: "Well-formed, but a rule refuses it (policy, short notice, already cancelled).",
}
