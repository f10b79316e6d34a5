"""API-token and lease queries of :class:`~headwater.store.metadata.MetadataStore`.

A token row holds the token's sha256 hash, never the token itself (:mod:`headwater.ops.tokens`
makes and checks tokens). A lease (``leases``: name, holder, expires_at) lets one process of
several hold a job — the server's scheduler — until it stops renewing it: taking or renewing one
is a single ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement, atomic on SQLite and on
PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from headwater.errors import AlreadyExistsError
from headwater.store.records import utcnow
from headwater.store.repo_base import RepoBase

__all__ = ["SCOPES", "TokenQueries", "TokenRecord"]

#: Token scopes, weakest first: each one allows what the ones before it allow.
SCOPES = ("read", "submit", "admin")

_TOKEN_COLUMNS = "id, name, scope, created_at, last_used_at, revoked_at"


@dataclass(frozen=True)
class TokenRecord:
    """An API token as stored, without its hash (and the token itself is never stored)."""

    id: str
    name: str
    scope: str
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def allows(self, scope: str) -> bool:
        """Whether this token may do what ``scope`` needs (admin ⊃ submit ⊃ read)."""
        return not self.revoked and SCOPES.index(self.scope) >= SCOPES.index(scope)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class TokenQueries(RepoBase):
    """API tokens (hashes only) and leases (a part of :class:`MetadataStore`)."""

    # -- tokens --------------------------------------------------------------------------------

    @staticmethod
    def _token(row: tuple[Any, ...]) -> TokenRecord:
        return TokenRecord(*row)

    def insert_token(self, name: str, scope: str, token_hash: str) -> TokenRecord:
        """Record a new token by its hash; a name already used (even revoked) is an error."""
        if scope not in SCOPES:
            raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
        record = TokenRecord(id=str(uuid.uuid4()), name=name, scope=scope, created_at=utcnow())
        with self._transaction():
            if self._one("SELECT 1 FROM api_tokens WHERE name = ?", (name,)) is not None:
                raise AlreadyExistsError(
                    "Token",
                    name,
                    hint="Token names are never reused; choose another name (see `headwater token list`).",
                )
            self._exec(
                f"INSERT INTO api_tokens ({_TOKEN_COLUMNS}, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.id, name, scope, record.created_at, None, None, token_hash),
            )
        return record

    def get_token_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The token whose hash is ``token_hash`` (revoked ones too), or None."""
        row = self._one(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?", (token_hash,))
        return None if row is None else self._token(row)

    def get_token(self, name: str) -> TokenRecord | None:
        """The token named ``name``, or None."""
        row = self._one(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE name = ?", (name,))
        return None if row is None else self._token(row)

    def list_tokens(self) -> list[TokenRecord]:
        """Every token, revoked ones included, by name."""
        rows = self._all(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens")
        return sorted((self._token(r) for r in rows), key=lambda t: t.name)

    def revoke_token(self, name: str) -> bool:
        """Revoke token ``name``; False when there is none (or it was revoked already)."""
        return (
            self._exec("UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (utcnow(), name))
            > 0
        )

    def touch_token(self, token_id: str, when: str | None = None) -> None:
        """Record that the token was just used."""
        self._exec("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (when or utcnow(), token_id))

    # -- leases --------------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl_seconds: float, now: datetime | None = None) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``now + ttl_seconds``.

        True when ``holder`` holds it afterwards: it was free, expired, or already ``holder``'s.
        One statement, so two processes racing for it never both win.
        """
        moment = now or datetime.now(UTC)
        expires = _iso(moment + timedelta(seconds=ttl_seconds))
        changed = self._exec(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?",
            (name, holder, expires, _iso(moment)),
        )
        return changed > 0

    def release_lease(self, name: str, holder: str) -> None:
        """Give lease ``name`` up, if ``holder`` holds it."""
        self._exec("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease_holder(self, name: str, now: datetime | None = None) -> str | None:
        """Who holds lease ``name`` now (None: nobody, or it expired)."""
        row = self._one("SELECT holder, expires_at FROM leases WHERE name = ?", (name,))
        if row is None or row[1] <= _iso(now or datetime.now(UTC)):
            return None
        return str(row[0])
