"""API tokens for ``headwater serve``: made here, stored as sha256 hashes, checked on each request.

A token is ``hw_`` followed by ``secrets.token_urlsafe(32)`` (32 random bytes); only its hash goes
into the metadata store, so the token is shown once, when it is created. :func:`local_token` is the
workspace's own admin token, used by SDK-side calls (the compat auth classes' headers); it lives
only in the workspace's secrets file.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from headwater.errors import ConfigurationError, NotFoundError
from headwater.layout import WorkspaceLayout
from headwater.store.metadata import MetadataStore
from headwater.store.repo_tokens import SCOPES, TokenRecord
from headwater.store.secrets import SecretStore

__all__ = [
    "LOCAL_TOKEN_KEY",
    "LOCAL_TOKEN_NAME",
    "TOKEN_PREFIX",
    "create_token",
    "hash_token",
    "list_tokens",
    "local_token",
    "revoke_token",
    "verify_token",
]

TOKEN_PREFIX = "hw_"
#: The secrets-file key of the workspace's own token, and the name it is recorded under.
LOCAL_TOKEN_KEY = "server/local_token"
LOCAL_TOKEN_NAME = "local"
#: ``last_used_at`` is written at most this often per token (a request should not always write).
_TOUCH_EVERY = timedelta(seconds=60)


def hash_token(token: str) -> str:
    """The sha256 hex digest a token is stored as."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise ConfigurationError(
            f"Unknown token scope {scope!r}", key="scope", hint=f"Use one of: {', '.join(SCOPES)}."
        )


def create_token(store: MetadataStore, name: str, scope: str = "read") -> str:
    """Record a new token named ``name`` with ``scope``; returns the token (it is not kept anywhere)."""
    from headwater.config import validate_name

    validate_name("token", name)
    _check_scope(scope)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.insert_token(name, scope, hash_token(token))
    return token


def verify_token(store: MetadataStore, token: str | None) -> TokenRecord | None:
    """The live (not revoked) token record ``token`` belongs to, or None; notes its use."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    record = store.get_token_by_hash(hash_token(token))
    if record is None or record.revoked:
        return None
    now = datetime.now(UTC)
    last = record.last_used_at
    if (last is None or datetime.fromisoformat(last) + _TOUCH_EVERY < now) and not store.read_only:
        store.touch_token(record.id, now.isoformat(timespec="microseconds"))
    return record


def list_tokens(store: MetadataStore) -> list[TokenRecord]:
    """Every token (name, scope, times; never the token or its hash)."""
    return store.list_tokens()


def revoke_token(store: MetadataStore, name: str) -> TokenRecord:
    """Revoke token ``name`` (it stops working at once); returns it as revoked."""
    existing = store.get_token(name)
    if existing is None:
        raise NotFoundError("Token", name, candidates=[t.name for t in store.list_tokens()])
    store.revoke_token(name)
    record = store.get_token(name)
    assert record is not None
    return record


def local_token(ws_folder: str | os.PathLike[str], store: MetadataStore) -> str:
    """The workspace's own admin token, for SDK-side calls to its server.

    Made on first use and kept only in the workspace's secrets file (its hash in the store, as for
    every token). Made again when the stored one no longer verifies (revoked, or a store restored
    from elsewhere).
    """
    from filelock import FileLock

    secret_store = SecretStore(ws_folder)
    token = secret_store.get(LOCAL_TOKEN_KEY)
    if token is not None and _valid(store, token):
        return token
    lock = WorkspaceLayout(ws_folder).folder / "locks" / "local_token.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock)):
        token = secret_store.get(LOCAL_TOKEN_KEY)  # another process may have made it meanwhile
        if token is not None and _valid(store, token):
            return token
        name = LOCAL_TOKEN_NAME if store.get_token(LOCAL_TOKEN_NAME) is None else f"local-{uuid.uuid4().hex[:8]}"
        token = create_token(store, name, "admin")
        secret_store.put(LOCAL_TOKEN_KEY, token)
        return token


def _valid(store: MetadataStore, token: str) -> bool:
    record = store.get_token_by_hash(hash_token(token))
    return record is not None and not record.revoked
