"""Datastore credentials, kept apart from the metadata store.

A datastore record never holds a key or token, only a *reference* to one:

* ``workspace:<key>`` — the value is in the workspace's secrets file, ``<workspace>/secrets.json``,
  written owner-only (mode 0600: every write makes a new 0600 file and renames it into place, so
  the mode never depends on the umask or on an earlier file) and replaced atomically, under a lock;
* ``env:<NAME>`` — the value is read from the environment variable ``NAME`` each time it is
  needed, so it is never written anywhere by Headwater.

:func:`redact` removes known secret values (also URL-encoded) and SAS/pre-signed signatures from any
text before it is shown, logged or recorded.

Keys in the file are ``datastore/<datastore name>/<credential name>`` (:func:`datastore_key`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from headwater.errors import ConfigurationError
from headwater.layout import SECRETS_FILE

__all__ = [
    "ENV_PREFIX",
    "REDACTED",
    "WORKSPACE_PREFIX",
    "SecretStore",
    "datastore_key",
    "datastore_prefix",
    "env_ref",
    "is_ref",
    "redact",
    "resolve_secret",
]

ENV_PREFIX = "env:"
WORKSPACE_PREFIX = "workspace:"
REDACTED = "***"

# SAS query parameters that carry the signature; everything else in a SAS token is harmless.
_SAS_SIG = re.compile(r"(?i)\b(sig|signature|X-Amz-Signature|X-Amz-Credential|AccountKey)=([^&;\s\"']+)")


def env_ref(variable: str) -> str:
    """A reference to the secret held by environment variable ``variable``."""
    if not variable or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise ConfigurationError(f"{variable!r} is not an environment variable name")
    return f"{ENV_PREFIX}{variable}"


def datastore_prefix(datastore: str) -> str:
    """The prefix of every key that holds one of ``datastore``'s credentials."""
    return f"datastore/{datastore}/"


def datastore_key(datastore: str, credential: str) -> str:
    """The secrets-file key of ``datastore``'s credential ``credential`` (e.g. ``account_key``)."""
    return f"{datastore_prefix(datastore)}{credential}"


def is_ref(value: object) -> bool:
    """Whether ``value`` is a secret reference (and not a secret)."""
    return isinstance(value, str) and value.startswith((ENV_PREFIX, WORKSPACE_PREFIX))


class SecretStore:
    """The secrets file of one workspace folder."""

    def __init__(self, workspace_folder: str | os.PathLike[str]) -> None:
        self.path = Path(workspace_folder) / SECRETS_FILE

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"The workspace secrets file is not valid JSON: {exc.msg} at line {exc.lineno}",
                path=str(self.path),
                hint="Fix or delete it, then register the datastores that used it again.",
            ) from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ConfigurationError("The workspace secrets file must map names to strings", path=str(self.path))
        return data

    def _write(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{SECRETS_FILE}.{uuid.uuid4().hex}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _locked(self) -> contextlib.AbstractContextManager[object]:
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path.with_name(f".{SECRETS_FILE}.lock")))

    def put(self, key: str, value: str) -> str:
        """Store ``value`` under ``key``; returns its reference (``workspace:<key>``)."""
        with self._locked():
            data = self._read()
            data[key] = value
            self._write(data)
        return f"{WORKSPACE_PREFIX}{key}"

    def delete(self, keys: Iterable[str]) -> None:
        """Forget ``keys`` (missing ones are ignored)."""
        keys = list(keys)
        if not keys or not self.path.exists():
            return
        with self._locked():
            data = self._read()
            if any(k in data for k in keys):
                for k in keys:
                    data.pop(k, None)
                self._write(data)

    def get(self, key: str) -> str | None:
        """The value stored under ``key``, or None."""
        return self._read().get(key)

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """Every entry whose key starts with ``prefix``."""
        return {k: v for k, v in self._read().items() if k.startswith(prefix)}

    def replace_prefix(self, prefix: str, values: Mapping[str, str]) -> dict[str, str]:
        """Drop every key under ``prefix`` and store ``values`` (keys under ``prefix``), in one write.

        Returns the entries that were under ``prefix`` before, so a caller can put them back
        (``replace_prefix(prefix, previous)``) when what it stored them for fails.
        """
        stray = [k for k in values if not k.startswith(prefix)]
        if stray:
            raise ValueError(f"keys {stray} are not under {prefix!r}")
        if not values and not self.path.exists():
            return {}
        with self._locked():
            data = self._read()
            previous = {k: v for k, v in data.items() if k.startswith(prefix)}
            if previous == dict(values):
                return previous
            kept = {k: v for k, v in data.items() if not k.startswith(prefix)}
            self._write({**kept, **values})
        return previous

    def delete_prefix(self, prefix: str) -> None:
        """Forget every key under ``prefix``."""
        self.replace_prefix(prefix, {})


def resolve_secret(ref: str, workspace_folder: str | os.PathLike[str], *, what: str) -> str:
    """The secret ``ref`` names; ``what`` says whose it is (for the error when it is missing)."""
    if ref.startswith(ENV_PREFIX):
        name = ref[len(ENV_PREFIX) :]
        value = os.environ.get(name)
        if value is None:
            raise ConfigurationError(
                f"The {what} is read from environment variable {name}, which is not set",
                hint=f"Set {name} in the environment that runs Headwater.",
            )
        return value
    if ref.startswith(WORKSPACE_PREFIX):
        store = SecretStore(workspace_folder)
        value = store.get(ref[len(WORKSPACE_PREFIX) :])
        if value is None:
            raise ConfigurationError(
                f"The {what} is missing from the workspace secrets file",
                path=str(store.path),
                hint="Register the datastore again with its credentials (overwrite=True).",
            )
        return value
    raise ConfigurationError(f"The {what} is not a secret reference (env:NAME or workspace:KEY)")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with each of ``secrets`` and any SAS/pre-signed URL signature replaced by ``***``.

    A secret is also found URL-encoded (an account key's ``+/=`` in a query string), and a SAS
    token with or without its leading ``?``. Values shorter than 4 characters are left alone (they
    would match everywhere, and are no secret worth the name).
    """
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        for form in (secret, secret.lstrip("?"), quote(secret, safe=""), quote(secret.lstrip("?"), safe="=&")):
            if len(form) >= 4:
                forms.add(form)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return _SAS_SIG.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
