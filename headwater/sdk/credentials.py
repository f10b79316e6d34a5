"""Credentials passed to ``Datastore.register_*``: a literal, or a reference to an environment variable.

``Datastore.register_azure_blob_container(ws, "raw", "c", "acct", account_key=KEY)`` stores ``KEY``
in the workspace secrets file (owner-only); ``account_key=secret_from_env("AZ_KEY")`` stores only
the reference ``env:AZ_KEY``, and the key is read from the environment each time it is needed.
Either way the metadata store holds a reference, never the value
(:mod:`headwater.store.secrets`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from headwater.errors import ConfigurationError
from headwater.store.secrets import WORKSPACE_PREFIX, SecretStore, datastore_key, env_ref

__all__ = ["Credential", "EnvSecret", "StagedCredentials", "secret_from_env", "stage_credentials"]


@dataclass(frozen=True)
class EnvSecret:
    """A credential held by an environment variable (make one with :func:`secret_from_env`)."""

    variable: str

    @property
    def ref(self) -> str:
        """The reference stored in the datastore's record (``env:<variable>``)."""
        return env_ref(self.variable)

    def __repr__(self) -> str:
        return f"secret_from_env({self.variable!r})"


#: What a ``register_*`` credential argument may be.
Credential = str | EnvSecret | None


def secret_from_env(variable: str) -> EnvSecret:
    """A credential read from environment variable ``variable`` whenever it is needed (a Headwater addition).

    Pass it instead of a literal key or token, e.g.
    ``Datastore.register_s3(ws, "raw", "bucket", secret_access_key=secret_from_env("AWS_SECRET_ACCESS_KEY"))``:
    the workspace then records only the variable's name, and the variable must be set in every
    process that reads or writes the datastore (your shell, the pipeline's steps).
    """
    env_ref(variable)  # validates the name
    return EnvSecret(variable)


@dataclass(frozen=True)
class StagedCredentials:
    """One datastore's credentials, ready to record: references, and the values to keep secret."""

    refs: dict[str, str]
    """credential name -> reference (``workspace:...`` or ``env:...``), for the record's config."""
    literals: dict[str, str]
    """secrets-file key -> value, for the literals (what the workspace secrets file must hold)."""
    values: list[str]
    """Every value known now (literals, and the environment variables that are set), for redaction."""

    def same_as_stored(self, workspace_folder: Path, prefix: str) -> bool:
        """Whether the secrets file holds exactly :attr:`literals` under ``prefix``."""
        return SecretStore(workspace_folder).with_prefix(prefix) == self.literals


def stage_credentials(datastore: str, credentials: Mapping[str, Credential]) -> StagedCredentials:
    """References for ``credentials`` (name -> literal, :class:`EnvSecret` or None); Nones are left out.

    Nothing is written: :meth:`SecretStore.replace_prefix` stores :attr:`StagedCredentials.literals`.
    """
    refs: dict[str, str] = {}
    literals: dict[str, str] = {}
    values: list[str] = []
    for name, value in credentials.items():
        if value is None:
            continue
        if isinstance(value, EnvSecret):
            refs[name] = value.ref
            from_env = os.environ.get(value.variable)
            if from_env:
                values.append(from_env)
            continue
        if not isinstance(value, str):
            raise ConfigurationError(
                f"The {name} of datastore {datastore!r} must be a string or secret_from_env('VAR'), "
                f"not a {type(value).__name__}"
            )
        if not value:
            raise ConfigurationError(
                f"The {name} of datastore {datastore!r} is empty",
                hint="Pass the value, secret_from_env('VAR'), or leave the argument out.",
            )
        key = datastore_key(datastore, name)
        refs[name] = f"{WORKSPACE_PREFIX}{key}"
        literals[key] = value
        values.append(value)
    return StagedCredentials(refs, literals, values)
