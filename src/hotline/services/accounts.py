"""Operators sign in as principals: passwords (Argon2id), sessions that expire, API
tokens for scripts, and failed sign-ins counted and rate-limited."""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hotline.domain.clock import Clock, format_time
from hotline.domain.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from hotline.domain.identity import Principal, parse_principal_id
from hotline.storage.accounts import AccountStore
from hotline.storage.store import Store

MIN_PASSWORD = 12
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=5)
#: An address a principal signed in from within this long has its own allowance.
KNOWN_ADDRESS = timedelta(days=30)
#: Password checks at once: each Argon2id check holds 64 MiB, so a flood of sign-ins
#: waits its turn instead of taking the node's memory.
CONCURRENT_CHECKS = 2
#: How long a checked token is taken on trust before the database is asked again (a
#: token revoked by another process stops working within this; by this one, at once).
RECHECK = 2.0
#: The languages an operator may read the console in.
LANGUAGES = ("en", "ru", "zh", "ko")


@dataclass(frozen=True)
class Session:
    token: str
    principal: str
    expires_at: datetime | None


class Accounts:
    def __init__(
        self, store: Store, accounts: AccountStore, clock: Clock, session_ttl: timedelta
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.clock = clock
        self.session_ttl = session_ttl
        self.hasher = PasswordHasher()
        self._checked: dict[str, tuple[Principal, datetime | None]] = {}
        self._rechecked = time.monotonic()  # when every token cached was last asked about
        self._guard = threading.Lock()
        self._recheck = threading.Lock()
        self._checks = threading.BoundedSemaphore(CONCURRENT_CHECKS)
        #: Told ``(token, None)`` once a token has ended in this process (sign-out,
        #: revocation), ``(None, principal)`` once a principal's sessions have (a new
        #: password): live streams end with them.
        self.ended: list[Callable[[str | None, str | None], None]] = []
        self._dummy_hash: str | None = None

    def set_password(self, principal: str, password: str) -> None:
        who = parse_principal_id(principal)
        self.store.require_principal(who)
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(
                "password", f"at least {MIN_PASSWORD} characters", hint="use a passphrase"
            )
        self.accounts.set_password_hash(who, self.hasher.hash(password), self.clock.now())
        self._forget(principal=who)  # its sessions are ended

    def login(self, principal: str, password: str, remote: str | None = None) -> Session:
        """Check a password; a session token valid for ``session_ttl``. Raises
        NotAuthenticated (recorded) or TooManyAttempts (with ``retry_after``).

        Each attempt is recorded as a failure *before* its password is checked, and only
        the first :data:`MAX_FAILURES` in :data:`FAILURE_WINDOW` are checked, however many
        arrive at once. An address the principal signed in from in the last
        :data:`KNOWN_ADDRESS` has an allowance of its own, so failures elsewhere cannot
        lock the desk out of it. An unknown principal costs the same password check."""
        now = self.clock.now()
        self._dummy()  # made once, before any answer can differ by it
        try:
            who = parse_principal_id(principal)
        except InvalidInput:
            self._check(None, password)
            raise NotAuthenticated("wrong principal or password") from None
        budget = ""
        if remote and self.accounts.known_address(who, remote, now - KNOWN_ADDRESS):
            budget = remote
        since = now - FAILURE_WINDOW
        attempt, rank, earlier = self.accounts.reserve_attempt(who, remote, budget, now, since)
        if rank > MAX_FAILURES:
            self.accounts.release_attempt(attempt)  # refused unchecked: no guess spent
            wait = (earlier[rank - 1 - MAX_FAILURES] + FAILURE_WINDOW - now).total_seconds()
            error = TooManyAttempts(
                f"too many failed sign-ins for {who}",
                hint=f"wait {int(FAILURE_WINDOW.total_seconds() // 60)} minutes at most"
                f" (try again in {max(1, math.ceil(wait))} s)",
            )
            error.retry_after = float(max(1, math.ceil(wait)))
            raise error
        if not self._check(self.accounts.password_hash(who), password):
            raise NotAuthenticated("wrong principal or password")
        self.accounts.release_attempt(attempt)
        if remote:
            self.accounts.signed_in_from(who, remote, now)
        token = secrets.token_urlsafe(32)
        expires = now + self.session_ttl
        self.accounts.add_token(token, who, "session", now, expires)
        return Session(token, who, expires)

    def _check(self, digest: str | None, password: str) -> bool:
        """Whether ``password`` matches ``digest``; without one, a check against a hash
        of nothing anyone knows, so an unknown principal takes as long as a known one."""
        with self._checks:
            try:
                return bool(self.hasher.verify(digest or self._dummy(), password)) and bool(digest)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(32))
        return self._dummy_hash

    def set_language(self, principal: str, language: str) -> None:
        """The language ``principal`` reads the console in (one of :data:`LANGUAGES`)."""
        who = parse_principal_id(principal)
        self.store.require_principal(who)
        lang = language.strip().lower()
        if lang not in LANGUAGES:
            raise InvalidInput(
                "language",
                f"{language!r} is not spoken here",
                hint=f"one of {', '.join(LANGUAGES)}",
            )
        self.accounts.set_language(who, lang, self.clock.now())

    def language_of(self, principal: str) -> str | None:
        """The language ``principal`` chose; None if it chose none (the node's applies)."""
        return self.accounts.language(principal)

    def create_token(self, principal: str) -> str:
        """An API token for scripts (no expiry; revoke with logout)."""
        who = parse_principal_id(principal)
        self.store.require_principal(who)
        token = "hlt_" + secrets.token_urlsafe(32)
        self.accounts.add_token(token, who, "api", self.clock.now(), None)
        return token

    def cached(self, token: str | None) -> Principal | None:
        """The principal of a token checked in the last :data:`RECHECK` seconds and
        not expired since; None if the database must be asked (:meth:`authenticate`).

        Every token cached is asked about together, in two queries once per
        :data:`RECHECK`, not one by one: fifty operators' consoles would otherwise cost
        two queries a request for one request in eight."""
        if time.monotonic() - self._rechecked > RECHECK:
            self._recheck_all()
        with self._guard:
            found = self._checked.get(token or "")
        if found is None:
            return None
        principal, expires = found
        if expires is not None and expires <= self.clock.now():
            return None
        return principal

    def _recheck_all(self) -> None:
        """Ask the database about every token cached: those ended (by another process)
        or whose principal is gone are forgotten, the others keep their principal as it
        is now."""
        with self._recheck:
            if time.monotonic() - self._rechecked <= RECHECK:
                return  # another thread has just done it
            started = time.monotonic()
            with self._guard:
                tokens = list(self._checked)
            live = self.accounts.live_tokens(tokens, self.clock.now())
            principals = {p.id: p for p in self.store.principals()} if live else {}
            ended = []
            with self._guard:
                for token in tokens:
                    held = self._checked.get(token)
                    if held is None:
                        continue  # forgotten meanwhile
                    now_as = principals.get(held[0].id)
                    if token in live and now_as is not None:
                        self._checked[token] = (now_as, held[1])
                    else:
                        del self._checked[token]
                        ended.append(token)
            self._rechecked = started
        for token in ended:
            self._forget(token=token)

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise NotAuthenticated("sign in first", hint="POST /api/v1/auth/login")
        known = self.cached(token)
        if known is not None:
            return known
        found = self.accounts.holder(token, self.clock.now())
        if found is None:
            self._forget(token=token)
            raise NotAuthenticated("the session has expired or the token is unknown")
        principal = self.store.principal(found[0])
        expires = found[2]
        with self._guard:
            if len(self._checked) > 10_000:
                self._checked.clear()
            self._checked[token] = (principal, expires)
        return principal

    def valid(self, token: str) -> bool:
        """Whether a token still holds: from the cache when checked in the last
        :data:`RECHECK` seconds (and not expired since), else from the database."""
        if self.cached(token) is not None:
            return True
        try:
            self.authenticate(token)
        except NotAuthenticated:
            return False
        return True

    def expires_at(self, token: str) -> datetime | None:
        """When a live token expires (None: an API token, or not live)."""
        if self.cached(token) is not None:
            with self._guard:
                found = self._checked.get(token)
            if found is not None:
                return found[1]
        held = self.accounts.holder(token, self.clock.now())
        return held[2] if held is not None else None

    def live(self, tokens: Iterable[str]) -> set[str]:
        """Those of ``tokens`` that still hold (one database query)."""
        return self.accounts.live_tokens(list(tokens), self.clock.now())

    def _forget(self, *, token: str | None = None, principal: str | None = None) -> None:
        """Drop what is cached of an ended token or principal, and say so (after the
        database has been changed)."""
        with self._guard:
            if token is not None:
                self._checked.pop(token, None)
            if principal is not None:
                for t, (p, _) in list(self._checked.items()):
                    if p.id == principal:
                        del self._checked[t]
        for listener in list(self.ended):
            listener(token, principal)

    def logout(self, token: str) -> None:
        """End a session, or revoke an API token: its live streams end with it."""
        self.accounts.drop_token(token)
        self._forget(token=token)

    def expiry(self, session: Session) -> str | None:
        return format_time(session.expires_at) if session.expires_at else None
