"""Studio sessions: signed cookies and one-time login codes, made with a per-workspace secret.

A session cookie carries the token's id, name and scope and an expiry, signed with HMAC-SHA256 and
a secret kept in the workspace's secrets file (``server/session_secret``); never the token. Each
request checks the signature, the expiry, and that the token is still live (a revoked token ends
its sessions at once). A login code (``headwater studio``) is the same kind of signed value with a
short life and a nonce, so a browser can be logged in without the token appearing in a URL; the
server accepts each nonce once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any

from headwater.store.metadata import MetadataStore
from headwater.store.repo_tokens import TokenRecord
from headwater.store.secrets import SecretStore

__all__ = [
    "LOGIN_CODE_SECONDS",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "login_code",
    "make_session",
    "read_login_code",
    "read_session",
    "session_secret",
]

#: The secrets-file key of the workspace's session secret.
SESSION_SECRET_KEY = "server/session_secret"
#: The cookie's name.
SESSION_COOKIE = "hw_session"
#: How long a session lasts (12 hours).
SESSION_SECONDS = 12 * 3600
#: How long a login code made by ``headwater studio`` may be used.
LOGIN_CODE_SECONDS = 120


def session_secret(ws_folder: str | os.PathLike[str]) -> bytes:
    """The workspace's session secret (made on first use, kept only in its secrets file)."""
    from filelock import FileLock

    from headwater.layout import WorkspaceLayout

    store = SecretStore(ws_folder)
    value = store.get(SESSION_SECRET_KEY)
    if value is None:
        lock = WorkspaceLayout(ws_folder).folder / "locks" / "session_secret.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock)):
            value = store.get(SESSION_SECRET_KEY)
            if value is None:
                value = secrets.token_urlsafe(32)
                store.put(SESSION_SECRET_KEY, value)
    return value.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: dict[str, Any], secret: bytes) -> str:
    body = _b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    mac = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def _unsign(value: str | None, secret: bytes, purpose: str) -> dict[str, Any] | None:
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    expected = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or payload.get("purpose") != purpose:
        return None
    if not isinstance(payload.get("exp"), (int, float)) or payload["exp"] < time.time():
        return None
    return payload


def _live(store: MetadataStore, payload: dict[str, Any]) -> TokenRecord | None:
    name = payload.get("name")
    record = store.get_token(name) if isinstance(name, str) else None
    if record is None or record.revoked or record.id != payload.get("tid"):
        return None
    return record


def make_session(record: TokenRecord, secret: bytes, seconds: int = SESSION_SECONDS) -> str:
    """The signed cookie value of a session for the token ``record``."""
    payload: dict[str, Any] = {"purpose": "session", "tid": record.id, "name": record.name, "scope": record.scope}
    payload["exp"] = int(time.time()) + seconds
    return _sign(payload, secret)


def read_session(store: MetadataStore, value: str | None, secret: bytes) -> TokenRecord | None:
    """The live token a session cookie value stands for, or None (bad signature, expired, revoked)."""
    payload = _unsign(value, secret, "session")
    return None if payload is None else _live(store, payload)


def login_code(ws_folder: str | os.PathLike[str], record: TokenRecord, seconds: int = LOGIN_CODE_SECONDS) -> str:
    """A short-lived one-time code that logs a browser in as ``record`` (``/studio/login?code=...``)."""
    payload: dict[str, Any] = {"purpose": "login", "tid": record.id, "name": record.name, "scope": record.scope}
    payload.update(exp=int(time.time()) + seconds, nonce=secrets.token_urlsafe(12))
    return _sign(payload, session_secret(ws_folder))


def read_login_code(store: MetadataStore, code: str | None, secret: bytes) -> tuple[TokenRecord, str] | None:
    """The live token a login code stands for and the code's nonce (the caller accepts a nonce once)."""
    payload = _unsign(code, secret, "login")
    if payload is None:
        return None
    record = _live(store, payload)
    return None if record is None else (record, str(payload.get("nonce")))
