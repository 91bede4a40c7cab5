"""Operator accounts: password hashes, session and API tokens (stored hashed), and failed
logins."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hotline.domain.clock import format_time, parse_time
from hotline.storage.engine import transaction
from hotline.storage.schema import accounts, login_addresses, login_failures, preferences, sessions


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        with transaction(self.engine, write=write) as c:
            yield c

    def set_password_hash(self, principal: str, digest: str, at: datetime) -> None:
        with self._conn(write=True) as c:
            c.execute(sa.delete(accounts).where(accounts.c.principal == principal))
            c.execute(
                sa.insert(accounts).values(
                    principal=principal, password_hash=digest, updated_at=format_time(at)
                )
            )
            c.execute(  # a new password ends the sessions opened with the old one
                sa.delete(sessions).where(
                    sessions.c.principal == principal, sessions.c.kind == "session"
                )
            )

    def password_hash(self, principal: str) -> str | None:
        with self._conn() as c:
            return c.execute(
                sa.select(accounts.c.password_hash).where(accounts.c.principal == principal)
            ).scalar_one_or_none()

    def add_token(
        self, token: str, principal: str, kind: str, at: datetime, expires: datetime | None
    ) -> None:
        with self._conn(write=True) as c:
            c.execute(
                sa.insert(sessions).values(
                    token_hash=token_hash(token),
                    principal=principal,
                    kind=kind,
                    created_at=format_time(at),
                    expires_at=format_time(expires) if expires else None,
                )
            )

    def holder(self, token: str, now: datetime) -> tuple[str, str, datetime | None] | None:
        """(principal, kind, expiry) of a live token; None if unknown or expired."""
        with self._conn() as c:
            row = c.execute(
                sa.select(sessions).where(sessions.c.token_hash == token_hash(token))
            ).first()
        if row is None:
            return None
        expires = parse_time(row.expires_at) if row.expires_at is not None else None
        if expires is not None and expires <= now:
            return None
        return row.principal, row.kind, expires

    def live_tokens(self, tokens: list[str], now: datetime) -> set[str]:
        """Those of ``tokens`` known and not expired at ``now``."""
        if not tokens:
            return set()
        by_hash = {token_hash(t): t for t in tokens}
        with self._conn() as c:
            rows = c.execute(
                sa.select(sessions.c.token_hash, sessions.c.expires_at).where(
                    sessions.c.token_hash.in_(list(by_hash))
                )
            ).all()
        return {
            by_hash[r.token_hash]
            for r in rows
            if r.expires_at is None or parse_time(r.expires_at) > now
        }

    def drop_token(self, token: str) -> None:
        with self._conn(write=True) as c:
            c.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash(token)))

    def record_failure(self, principal: str, remote: str | None, at: datetime) -> None:
        with self._conn(write=True) as c:
            c.execute(
                sa.insert(login_failures).values(
                    principal=principal, remote=remote, at=format_time(at)
                )
            )

    def reserve_attempt(
        self, principal: str, remote: str | None, budget: str, at: datetime, since: datetime
    ) -> tuple[int, int, list[datetime]]:
        """Record a sign-in attempt as a failure before its password is checked, and rank it
        among the attempts on the same ``budget`` since ``since``: (row id, rank, times of
        the attempts before it). Attempts on a principal are ranked one at a time (the
        write lock on SQLite, an advisory lock on PostgreSQL), so a parallel burst gets
        ranks 1, 2, 3... and never two the same."""
        with self._conn(write=True) as c:
            if c.dialect.name == "postgresql":
                c.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(principal))))
            ident = c.execute(
                sa.insert(login_failures)
                .values(principal=principal, remote=remote, budget=budget, at=format_time(at))
                .returning(login_failures.c.id)
            ).scalar_one()
            earlier = c.execute(
                sa.select(login_failures.c.at)
                .where(
                    login_failures.c.principal == principal,
                    login_failures.c.budget == budget,
                    login_failures.c.at >= format_time(since),
                    login_failures.c.id < ident,
                )
                .order_by(login_failures.c.id)
            ).scalars()
            times = [parse_time(t) for t in earlier]
        return int(ident), len(times) + 1, times

    def release_attempt(self, ident: int) -> None:
        """Forget an attempt: it succeeded, or it was refused before any check."""
        with self._conn(write=True) as c:
            c.execute(sa.delete(login_failures).where(login_failures.c.id == ident))

    def signed_in_from(self, principal: str, remote: str, at: datetime) -> None:
        """Remember that ``principal`` signed in from ``remote``."""
        with self._conn(write=True) as c:
            c.execute(
                sa.delete(login_addresses).where(
                    login_addresses.c.principal == principal, login_addresses.c.remote == remote
                )
            )
            c.execute(
                sa.insert(login_addresses).values(
                    principal=principal, remote=remote, last_at=format_time(at)
                )
            )

    def known_address(self, principal: str, remote: str, since: datetime) -> bool:
        """Whether ``principal`` signed in from ``remote`` since ``since``."""
        with self._conn() as c:
            return (
                c.execute(
                    sa.select(login_addresses.c.last_at).where(
                        login_addresses.c.principal == principal,
                        login_addresses.c.remote == remote,
                        login_addresses.c.last_at >= format_time(since),
                    )
                ).first()
                is not None
            )

    def failures_since(self, principal: str, since: datetime) -> int:
        with self._conn() as c:
            return int(
                c.execute(
                    sa.select(sa.func.count())
                    .select_from(login_failures)
                    .where(
                        login_failures.c.principal == principal,
                        login_failures.c.at >= format_time(since),
                    )
                ).scalar_one()
            )

    def set_language(self, principal: str, language: str | None, at: datetime) -> None:
        with self._conn(write=True) as c:
            c.execute(sa.delete(preferences).where(preferences.c.principal == principal))
            c.execute(
                sa.insert(preferences).values(
                    principal=principal, language=language, updated_at=format_time(at)
                )
            )

    def language(self, principal: str) -> str | None:
        with self._conn() as c:
            found = c.execute(
                sa.select(preferences.c.language).where(preferences.c.principal == principal)
            ).scalar_one_or_none()
        return str(found) if found is not None else None
