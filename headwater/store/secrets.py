"""Datastore credentials, kept apart from the metadata store.

A datastore record never holds a key or token, only a *reference* to one:

* ``workspace:<key>`` — the value is in the workspace's secrets file, ``<workspace>/secrets.json``,
  created owner-only (mode 0600, in a folder nobody else can list into) and replaced atomically;
* ``env:<NAME>`` — the value is read from the environment variable ``NAME`` each time it is
  needed, so it is never written anywhere by Headwater.

:func:`redact` removes known secret values (and SAS signatures) from any text before it is shown,
logged or recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

from headwater.errors import ConfigurationError

__all__ = [
    "ENV_PREFIX",
    "REDACTED",
    "WORKSPACE_PREFIX",
    "SecretStore",
    "env_ref",
    "is_ref",
    "redact",
    "resolve_secret",
]

ENV_PREFIX = "env:"
WORKSPACE_PREFIX = "workspace:"
REDACTED = "***"
SECRETS_FILE = "secrets.json"

# SAS query parameters that carry the signature; everything else in a SAS token is harmless.
_SAS_SIG = re.compile(r"(?i)\b(sig|signature|X-Amz-Signature|X-Amz-Credential|AccountKey)=([^&;\s\"']+)")


def env_ref(variable: str) -> str:
    """A reference to the secret held by environment variable ``variable``."""
    if not variable or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise ConfigurationError(f"{variable!r} is not an environment variable name")
    return f"{ENV_PREFIX}{variable}"


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
        return self._read().get(key)


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
    """``text`` with each of ``secrets`` and any SAS/pre-signed URL signature replaced by ``***``."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _SAS_SIG.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
