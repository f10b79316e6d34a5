"""Registering a remote datastore (Azure Blob, S3): checks, credentials, validation, the record.

:func:`register_azure_blob_container`, :func:`register_s3` and SDK v1's ``register_*`` functions
for kinds Headwater does not support (they raise NotSupportedError, saying why and what to use)
are plain functions; :class:`~headwater.sdk.datastore.Datastore` offers each as the static method
of the same name and signature (``Datastore.register_s3(...)``), as SDK v1 does. Both supported
kinds follow one procedure, :func:`register_remote`:

1. the name and the arguments are checked (nothing is written on a bad argument);
2. an existing datastore of that name with the same settings and credentials is returned as it is;
   a different one needs ``overwrite=True`` (its credentials are replaced, not merged);
3. literal credentials go to the workspace secrets file, environment variables are recorded by name;
4. unless ``skip_validation``, the container/bucket is checked (and created with
   ``create_if_not_exists``) with those credentials: a failure puts the secrets file back as it was
   and raises with every known secret value redacted;
5. the record (settings and references, never values) is written to the metadata store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from headwater.config import validate_name
from headwater.errors import (
    AlreadyExistsError,
    ConfigurationError,
    DataAccessError,
    HeadwaterError,
    NotSupportedError,
)
from headwater.sdk.credentials import Credential, stage_credentials
from headwater.sdk.workspace import BUILTIN_DATASTORES
from headwater.store.records import DatastoreRecord
from headwater.store.secrets import SecretStore, datastore_prefix, redact

if TYPE_CHECKING:
    from headwater.sdk.datastore import AzureBlobDatastore, S3Datastore
    from headwater.sdk.workspace import Workspace

__all__ = [
    "blob_service_url",
    "check_bucket_name",
    "check_container_name",
    "check_url",
    "register_azure_blob_container",
    "register_azure_data_lake",
    "register_azure_data_lake_gen2",
    "register_azure_file_share",
    "register_azure_my_sql",
    "register_azure_postgre_sql",
    "register_azure_sql_database",
    "register_dbfs",
    "register_hdfs",
    "register_remote",
    "register_s3",
]

_CONTAINER_RE = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def blob_service_url(config: Mapping[str, Any]) -> str:
    """The blob service URL of an ``azure_blob`` record: ``account_url``, else built as SDK v1 does."""
    if config.get("account_url"):
        return str(config["account_url"])
    protocol = config.get("protocol") or "https"
    endpoint = config.get("endpoint") or "core.windows.net"
    return f"{protocol}://{config['account_name']}.blob.{endpoint}"


def check_url(value: str, *, what: str, datastore: str) -> str:
    """``value`` if it is an http(s) URL with a host (a trailing ``/`` removed), else ConfigurationError."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"The {what} of datastore {datastore!r} must be an http:// or https:// URL with a host, got {value!r}",
            hint="For Azurite: http://127.0.0.1:10000/devstoreaccount1; for an S3 server: http://127.0.0.1:9000.",
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(
            f"The {what} of datastore {datastore!r} must not carry a query, fragment or credentials",
            hint="Pass keys and tokens through their own arguments (or secret_from_env('VAR')).",
        )
    return value.rstrip("/")


def check_container_name(name: str, *, datastore: str) -> str:
    """``name`` if Azure accepts it as a container name, else ConfigurationError."""
    if not isinstance(name, str) or not _CONTAINER_RE.match(name):
        raise ConfigurationError(
            f"Invalid container name {name!r} for datastore {datastore!r}",
            hint="Azure container names are 3-63 characters: lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit.",
        )
    return name


def check_bucket_name(name: str, *, datastore: str) -> str:
    """``name`` if S3 accepts it as a bucket name, else ConfigurationError."""
    if not isinstance(name, str) or not _BUCKET_RE.match(name) or ".." in name:
        raise ConfigurationError(
            f"Invalid bucket name {name!r} for datastore {datastore!r}",
            hint="S3 bucket names are 3-63 characters: lowercase letters, digits, '.' and '-', "
            "starting and ending with a letter or digit.",
        )
    return name


_NO_SERVER_HERE = (
    "No server that speaks this protocol runs here to test Headwater against, so it is not offered "
    "rather than offered untested."
)


def _not_supported(what: str, instead: str) -> NoReturn:
    raise NotSupportedError(f"{what} is not supported by Headwater. {_NO_SERVER_HERE}", hint=instead)


def register_azure_blob_container(
    workspace: Workspace,
    datastore_name: str,
    container_name: str,
    account_name: str,
    sas_token: Credential = None,
    account_key: Credential = None,
    protocol: str | None = None,
    endpoint: str | None = None,
    overwrite: bool = False,
    create_if_not_exists: bool = False,
    skip_validation: bool = False,
    blob_cache_timeout: int | None = None,
    grant_workspace_access: bool = False,
    subscription_id: str | None = None,
    resource_group: str | None = None,
    *,
    account_url: str | None = None,
) -> AzureBlobDatastore:
    """Register an Azure Blob container as a datastore (SDK v1's signature, plus ``account_url=``).

    The blob service is ``account_url`` when given (a Headwater addition: a full URL such as
    Azurite's ``http://127.0.0.1:10000/devstoreaccount1``), else
    ``{protocol}://{account_name}.blob.{endpoint}`` (defaults ``https``, ``core.windows.net``).
    Give ``account_key`` or ``sas_token`` (a literal, kept in the workspace secrets file, or
    :func:`~headwater.secret_from_env`), or neither for a public container.

    Unless ``skip_validation``, the container is reached with those credentials first (and
    created when ``create_if_not_exists``); nothing is registered when that fails. Registering
    the same settings again returns the datastore; different ones need ``overwrite=True``.
    ``blob_cache_timeout``, ``grant_workspace_access``, ``subscription_id`` and
    ``resource_group`` are accepted for SDK v1 code and not used.
    """
    validate_name("datastore", datastore_name)
    check_container_name(container_name, datastore=datastore_name)
    if not isinstance(account_name, str) or not account_name:
        raise ConfigurationError(f"Datastore {datastore_name!r} needs an account_name")
    if protocol is not None and protocol not in ("https", "http"):
        raise ConfigurationError(f"Datastore {datastore_name!r}: protocol must be 'https' or 'http', got {protocol!r}")
    if account_url is not None:
        account_url = check_url(account_url, what="account_url", datastore=datastore_name)
        if endpoint is not None or (protocol is not None and not account_url.startswith(f"{protocol}://")):
            raise ConfigurationError(
                f"Datastore {datastore_name!r}: account_url is the whole service URL; "
                "leave endpoint (and a protocol that disagrees with it) out"
            )
    if sas_token is not None and account_key is not None:
        raise ConfigurationError(
            f"Datastore {datastore_name!r}: pass account_key or sas_token, not both",
            hint="An account key gives full access; a SAS token can be limited to this container.",
        )
    settings = {
        "container_name": container_name,
        "account_name": account_name,
        "protocol": protocol,
        "endpoint": endpoint,
        "account_url": account_url,
    }
    record = register_remote(
        workspace,
        datastore_name,
        "azure_blob",
        settings,
        {"account_key": account_key, "sas_token": sas_token},
        overwrite=overwrite,
        create_if_not_exists=create_if_not_exists,
        skip_validation=skip_validation,
    )
    from headwater.sdk.datastore import AzureBlobDatastore, Datastore

    return AzureBlobDatastore._checked(Datastore._from_record(workspace, record))


def register_s3(
    workspace: Workspace,
    datastore_name: str,
    bucket_name: str,
    endpoint_url: str | None = None,
    access_key_id: Credential = None,
    secret_access_key: Credential = None,
    region: str | None = None,
    overwrite: bool = False,
    *,
    create_if_not_exists: bool = False,
    skip_validation: bool = False,
) -> S3Datastore:
    """Register an S3 bucket as a datastore (a Headwater addition).

    ``endpoint_url`` names an S3-compatible server (MinIO, moto, Ceph ...; ``None``: AWS).
    Give both ``access_key_id`` and ``secret_access_key`` (literals, kept in the workspace
    secrets file, or :func:`~headwater.secret_from_env`), or neither to use the usual AWS
    credential chain (``AWS_ACCESS_KEY_ID``, ``~/.aws/credentials``, ...). Validation,
    ``create_if_not_exists`` and ``overwrite`` work as for
    :func:`register_azure_blob_container`.
    """
    validate_name("datastore", datastore_name)
    check_bucket_name(bucket_name, datastore=datastore_name)
    if endpoint_url is not None:
        endpoint_url = check_url(endpoint_url, what="endpoint_url", datastore=datastore_name)
    if (access_key_id is None) != (secret_access_key is None):
        raise ConfigurationError(
            f"Datastore {datastore_name!r}: pass both access_key_id and secret_access_key, or neither",
            hint="Without both, the AWS credential chain (environment, ~/.aws) is used.",
        )
    record = register_remote(
        workspace,
        datastore_name,
        "s3",
        {"bucket_name": bucket_name, "endpoint_url": endpoint_url, "region": region},
        {"access_key_id": access_key_id, "secret_access_key": secret_access_key},
        overwrite=overwrite,
        create_if_not_exists=create_if_not_exists,
        skip_validation=skip_validation,
    )
    from headwater.sdk.datastore import Datastore, S3Datastore

    return S3Datastore._checked(Datastore._from_record(workspace, record))


def register_azure_file_share(
    workspace: Workspace,
    datastore_name: str,
    file_share_name: str,
    account_name: str,
    sas_token: Credential = None,
    account_key: Credential = None,
    protocol: str | None = None,
    endpoint: str | None = None,
    overwrite: bool = False,
    create_if_not_exists: bool = False,
    skip_validation: bool = False,
) -> NoReturn:
    """Not supported: Azure Files (SMB/File REST) has no local server to test against."""
    _not_supported(
        "Registering an Azure file share (register_azure_file_share)",
        "Copy the files into a blob container and use register_azure_blob_container, or mount the share "
        "and use register_local_folder.",
    )


def register_azure_data_lake_gen2(
    workspace: Workspace,
    datastore_name: str,
    filesystem: str,
    account_name: str,
    tenant_id: str | None = None,
    client_id: str | None = None,
    client_secret: Credential = None,
    resource_url: str | None = None,
    authority_url: str | None = None,
    protocol: str | None = None,
    endpoint: str | None = None,
    overwrite: bool = False,
    subscription_id: str | None = None,
    resource_group: str | None = None,
    grant_workspace_access: bool = False,
) -> NoReturn:
    """Not supported: ADLS Gen2's DFS endpoint has no local server to test against."""
    _not_supported(
        "Registering an Azure Data Lake Storage Gen2 filesystem (register_azure_data_lake_gen2)",
        "A Gen2 account also serves its filesystems as blob containers: register it with "
        "register_azure_blob_container(ws, name, container_name=<filesystem>, account_name=..., account_key=...).",
    )


def register_azure_data_lake(
    workspace: Workspace,
    datastore_name: str,
    store_name: str,
    tenant_id: str | None = None,
    client_id: str | None = None,
    client_secret: Credential = None,
    resource_url: str | None = None,
    authority_url: str | None = None,
    subscription_id: str | None = None,
    resource_group: str | None = None,
    overwrite: bool = False,
    grant_workspace_access: bool = False,
) -> NoReturn:
    """Not supported: ADLS Gen1 was retired by Azure, and no local server speaks it."""
    _not_supported(
        "Registering an Azure Data Lake Storage Gen1 store (register_azure_data_lake)",
        "Move the data to a blob container (register_azure_blob_container) or an S3 bucket (register_s3).",
    )


def register_azure_sql_database(*args: Any, **kwargs: Any) -> NoReturn:
    """Not supported: Headwater's datastores hold files, not database tables."""
    _not_supported(
        "A SQL database datastore (register_azure_sql_database)",
        "Export the tables to CSV or Parquet files on a datastore and read them with Dataset.Tabular.",
    )


def register_azure_postgre_sql(*args: Any, **kwargs: Any) -> NoReturn:
    """Not supported: Headwater's datastores hold files, not database tables."""
    _not_supported(
        "A PostgreSQL datastore (register_azure_postgre_sql)",
        "Export the tables to CSV or Parquet files on a datastore and read them with Dataset.Tabular.",
    )


def register_azure_my_sql(*args: Any, **kwargs: Any) -> NoReturn:
    """Not supported: Headwater's datastores hold files, not database tables."""
    _not_supported(
        "A MySQL datastore (register_azure_my_sql)",
        "Export the tables to CSV or Parquet files on a datastore and read them with Dataset.Tabular.",
    )


def register_dbfs(*args: Any, **kwargs: Any) -> NoReturn:
    """Not supported: there is no Databricks file system here."""
    _not_supported("A Databricks File System datastore (register_dbfs)", "Use a blob container or an S3 bucket.")


def register_hdfs(*args: Any, **kwargs: Any) -> NoReturn:
    """Not supported: there is no HDFS cluster here to test against."""
    _not_supported("An HDFS datastore (register_hdfs)", "Use a blob container, an S3 bucket or a local folder.")


def register_remote(
    workspace: Workspace,
    name: str,
    kind: str,
    settings: dict[str, Any],
    credentials: Mapping[str, Credential],
    *,
    overwrite: bool,
    create_if_not_exists: bool,
    skip_validation: bool,
) -> DatastoreRecord:
    """Register (or return, or replace) datastore ``name``; see the module docstring for the steps."""
    if name in BUILTIN_DATASTORES:
        raise ConfigurationError(
            f"Datastore {name!r} is built into every workspace and cannot be re-registered",
            hint="Choose another name.",
        )
    staged = stage_credentials(name, credentials)
    record = DatastoreRecord(name, kind, {**settings, "credentials": staged.refs})
    store = workspace.metadata_store
    prefix = datastore_prefix(name)
    existing = store.get_datastore(name)
    if existing is not None and not overwrite:
        if (
            existing.kind == record.kind
            and existing.config == record.config
            and staged.same_as_stored(workspace.folder, prefix)
        ):
            return existing
        raise AlreadyExistsError(
            "Datastore",
            name,
            hint="Pass overwrite=True to replace it (its stored credentials are replaced too).",
        )
    secrets = SecretStore(workspace.folder)
    previous = secrets.replace_prefix(prefix, staged.literals)
    try:
        if create_if_not_exists or not skip_validation:
            _validate(record, workspace, create=create_if_not_exists, secrets=staged.values)
        store.put_datastore(record, overwrite=overwrite)
    except BaseException:
        secrets.replace_prefix(prefix, previous)
        raise
    return record


def _validate(record: DatastoreRecord, workspace: Workspace, *, create: bool, secrets: list[str]) -> None:
    """Reach the container/bucket with the record's credentials (creating it when ``create``).

    Any error is raised with ``secrets`` redacted; when a secret shows anywhere in the error or
    what caused it, a fresh DataAccessError without the cause takes its place.
    """
    from headwater.store.datastores import backend_for

    backend = backend_for(record, workspace.folder)
    try:
        backend.ensure_root(create=create)
    except Exception as exc:
        if isinstance(exc, HeadwaterError) and not _mentions(exc, secrets):
            raise
        text = redact(str(exc), secrets)
        raise DataAccessError(
            f"Cannot register datastore {record.name!r}: {text}",
            hint="Check the account/bucket, the endpoint and the credentials, or pass skip_validation=True "
            "to register it without checking.",
        ) from None
    finally:
        backend.close()


def _mentions(exc: BaseException, secrets: list[str]) -> bool:
    """Whether any of ``secrets`` (or a SAS signature) shows in ``exc`` or the exceptions behind it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = f"{current!s} {current!r}"
        if redact(text, secrets) != text:
            return True
        current = current.__cause__ or current.__context__
    return False
