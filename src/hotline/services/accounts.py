"""Operators sign in as principals: passwords (Argon2id), sessions that expire, API
tokens for scripts, and failed sign-ins counted and rate-limited."""

from __future__ import annotations

import secrets
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

    def set_password(self, principal: str, password: str) -> None:
        who = parse_principal_id(principal)
        self.store.require_principal(who)
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(
                "password", f"at least {MIN_PASSWORD} characters", hint="use a passphrase"
            )
        self.accounts.set_password_hash(who, self.hasher.hash(password), self.clock.now())

    def login(self, principal: str, password: str, remote: str | None = None) -> Session:
        """Check a password; a session token valid for ``session_ttl``. Raises
        NotAuthenticated (recorded) or TooManyAttempts."""
        now = self.clock.now()
        try:
            who = parse_principal_id(principal)
        except InvalidInput:
            raise NotAuthenticated("wrong principal or password") from None
        if self.accounts.failures_since(who, now - FAILURE_WINDOW) >= MAX_FAILURES:
            raise TooManyAttempts(
                f"too many failed sign-ins for {who}",
                hint=f"wait {int(FAILURE_WINDOW.total_seconds() // 60)} minutes",
            )
        digest = self.accounts.password_hash(who)
        try:
            if digest is None:
                raise VerifyMismatchError()
            self.hasher.verify(digest, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            self.accounts.record_failure(who, remote, now)
            raise NotAuthenticated("wrong principal or password") from None
        token = secrets.token_urlsafe(32)
        expires = now + self.session_ttl
        self.accounts.add_token(token, who, "session", now, expires)
        return Session(token, who, expires)

    def create_token(self, principal: str) -> str:
        """An API token for scripts (no expiry; revoke with logout)."""
        who = parse_principal_id(principal)
        self.store.require_principal(who)
        token = "hlt_" + secrets.token_urlsafe(32)
        self.accounts.add_token(token, who, "api", self.clock.now(), None)
        return token

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise NotAuthenticated("sign in first", hint="POST /api/v1/auth/login")
        found = self.accounts.holder(token, self.clock.now())
        if found is None:
            raise NotAuthenticated("the session has expired or the token is unknown")
        return self.store.principal(found[0])

    def logout(self, token: str) -> None:
        self.accounts.drop_token(token)

    def expiry(self, session: Session) -> str | None:
        return format_time(session.expires_at) if session.expires_at else None
