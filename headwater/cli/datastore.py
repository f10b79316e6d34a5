"""``headwater datastore list|show|register-blob|register-s3|upload|download``.

Credentials never appear on the command line: the register commands take the *names* of
environment variables (``--account-key-env AZ_KEY``), so a key does not land in shell history or
in ``ps`` output; ``list`` and ``show`` print ``***`` where a credential is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

if TYPE_CHECKING:
    from headwater.sdk.credentials import Credential
    from headwater.sdk.datastore import Datastore

__all__ = ["datastore"]

_SECRET_HELP = (
    "Credentials are given as the NAMES of environment variables holding them, never as values, so "
    "they stay out of shell history and process lists. By default the datastore records the "
    "variable's name and reads it whenever it is used (it must be set then, in steps too); with "
    "--store-secrets the values are copied into the workspace's owner-only secrets file instead."
)


@click.group()
def datastore() -> None:
    """List, register and inspect datastores, and copy files to and from them."""


def _credential_lines(ds: Datastore) -> dict[str, str]:
    """Each registered credential shown as ``*** (where it is kept)``: never its value."""
    refs: dict[str, Any] = ds._record.config.get("credentials") or {}
    shown = {}
    for name, ref in sorted(refs.items()):
        text = str(ref)
        where = f"environment variable {text[4:]}" if text.startswith("env:") else "workspace secrets file"
        shown[name] = f"*** ({where})"
    return shown


def _row(ds: Datastore, default: str) -> dict[str, Any]:
    return {
        "name": ds.name,
        "type": ds.datastore_type,
        "kind": ds._record.kind,
        "location": ds._location(),
        "default": ds.name == default,
    }


@datastore.command("list")
@workspace_options
@json_option
def list_cmd(workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List the workspace's datastores (* marks the default)."""
    with open_workspace(workspace_name, folder) as ws:
        default = ws.get_default_datastore().name
        rows = [_row(ds, default) for ds in ws.datastores.values()]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "type", "location", "default"],
        [[r["name"], r["type"], r["location"], "*" if r["default"] else ""] for r in rows],
    )


_SHOWN_SETTINGS = (
    "container_name",
    "account_name",
    "account_url",
    "protocol",
    "endpoint",
    "bucket_name",
    "endpoint_url",
    "region",
)


@datastore.command("show")
@click.argument("name")
@workspace_options
@json_option
def show_cmd(name: str, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show one datastore: where it is and which credentials it uses (shown as ***)."""
    from headwater.sdk.datastore import AzureBlobDatastore, Datastore

    with open_workspace(workspace_name, folder) as ws:
        ds = Datastore.get(ws, name)
        info = _row(ds, ws.get_default_datastore().name)
        config = ds._record.config
        for key in _SHOWN_SETTINGS:
            if config.get(key) is not None:
                info[key] = config[key]
        if isinstance(ds, AzureBlobDatastore) and ds.account_url is not None:
            info["account_url"] = ds.account_url
        if "credentials" in config:
            info["credential_type"] = getattr(ds, "credential_type", None)
            info["credentials"] = _credential_lines(ds)
    if as_json:
        output.emit_json(info)
        return
    pairs = [(k, str(v)) for k, v in info.items() if k not in ("credentials", "default")]
    pairs.append(("default", "yes" if info["default"] else "no"))
    pairs.extend((k, v) for k, v in info.get("credentials", {}).items())
    output.fields(pairs)


def _env_credential(variable: str | None, *, store: bool, option: str) -> Credential:
    """The credential for ``--*-env VARIABLE``: a reference, or (``--store-secrets``) its value."""
    if variable is None:
        return None
    from headwater.sdk.credentials import secret_from_env

    ref = secret_from_env(variable)
    if not store:
        return ref
    import os

    value = os.environ.get(variable)
    if not value:
        raise click.UsageError(f"{option} {variable}: environment variable {variable} is not set (or is empty).")
    return value


_create_option = click.option("--create", is_flag=True, help="Create the container/bucket when it does not exist.")
_skip_validation_option = click.option(
    "--skip-validation", is_flag=True, help="Register without reaching the server to check the credentials."
)
_overwrite_registration_option = click.option(
    "--overwrite", is_flag=True, help="Replace a datastore of that name (and its stored credentials)."
)
_store_secrets_option = click.option(
    "--store-secrets",
    is_flag=True,
    help="Copy the variables' values into the workspace secrets file instead of recording their names.",
)


@datastore.command("register-blob", epilog=_SECRET_HELP)
@click.argument("name")
@click.option("--container", "container_name", required=True, metavar="C", help="The blob container.")
@click.option("--account-name", required=True, metavar="A", help="The storage account name.")
@click.option(
    "--account-url",
    metavar="URL",
    help="The blob service's full URL, e.g. Azurite's http://127.0.0.1:10000/devstoreaccount1.",
)
@click.option("--endpoint", metavar="SUFFIX", help="SDK v1's endpoint suffix (default core.windows.net).")
@click.option("--protocol", type=click.Choice(["https", "http"]), help="With --endpoint (default https).")
@click.option("--account-key-env", metavar="VAR", help="Environment variable holding the account key.")
@click.option("--sas-token-env", metavar="VAR", help="Environment variable holding a SAS token.")
@_store_secrets_option
@_create_option
@_skip_validation_option
@_overwrite_registration_option
@workspace_options
def register_blob_cmd(
    name: str,
    container_name: str,
    account_name: str,
    account_url: str | None,
    endpoint: str | None,
    protocol: str | None,
    account_key_env: str | None,
    sas_token_env: str | None,
    store_secrets: bool,
    create: bool,
    skip_validation: bool,
    overwrite: bool,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Register an Azure Blob container as datastore NAME (the key or token comes from an environment variable)."""
    from headwater.sdk.datastore import Datastore

    if account_url is not None and (endpoint is not None or protocol is not None):
        raise click.UsageError("Give --account-url, or --endpoint/--protocol, not both.")
    if account_key_env is not None and sas_token_env is not None:
        raise click.UsageError("Give --account-key-env or --sas-token-env, not both.")
    account_key = _env_credential(account_key_env, store=store_secrets, option="--account-key-env")
    sas_token = _env_credential(sas_token_env, store=store_secrets, option="--sas-token-env")
    with open_workspace(workspace_name, folder) as ws:
        ds = Datastore.register_azure_blob_container(
            ws,
            name,
            container_name,
            account_name,
            sas_token=sas_token,
            account_key=account_key,
            protocol=protocol,
            endpoint=endpoint,
            overwrite=overwrite,
            create_if_not_exists=create,
            skip_validation=skip_validation,
            account_url=account_url,
        )
        where = ds._location()
    output.echo(f"Registered datastore {name!r}: {where}")


@datastore.command("register-s3", epilog=_SECRET_HELP)
@click.argument("name")
@click.option("--bucket", "bucket_name", required=True, metavar="B", help="The bucket.")
@click.option(
    "--endpoint-url", metavar="URL", help="An S3-compatible server, e.g. http://127.0.0.1:9000 (default: AWS)."
)
@click.option("--region", metavar="R", help="The region (default: the client's).")
@click.option("--access-key-id-env", metavar="VAR", help="Environment variable holding the access key id.")
@click.option("--secret-access-key-env", metavar="VAR", help="Environment variable holding the secret access key.")
@_store_secrets_option
@_create_option
@_skip_validation_option
@_overwrite_registration_option
@workspace_options
def register_s3_cmd(
    name: str,
    bucket_name: str,
    endpoint_url: str | None,
    region: str | None,
    access_key_id_env: str | None,
    secret_access_key_env: str | None,
    store_secrets: bool,
    create: bool,
    skip_validation: bool,
    overwrite: bool,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Register an S3 bucket as datastore NAME (without key options the AWS credential chain is used)."""
    from headwater.sdk.datastore import Datastore

    if (access_key_id_env is None) != (secret_access_key_env is None):
        raise click.UsageError("Give both --access-key-id-env and --secret-access-key-env, or neither.")
    access_key_id = _env_credential(access_key_id_env, store=store_secrets, option="--access-key-id-env")
    secret_access_key = _env_credential(secret_access_key_env, store=store_secrets, option="--secret-access-key-env")
    with open_workspace(workspace_name, folder) as ws:
        ds = Datastore.register_s3(
            ws,
            name,
            bucket_name,
            endpoint_url=endpoint_url,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            region=region,
            overwrite=overwrite,
            create_if_not_exists=create,
            skip_validation=skip_validation,
        )
        where = ds._location()
    output.echo(f"Registered datastore {name!r}: {where}")


_datastore_option = click.option(
    "--datastore", "datastore_name", metavar="NAME", help="The datastore (default: the workspace's default)."
)
_overwrite_option = click.option("--overwrite", is_flag=True, help="Replace files that exist (default: skip them).")


@datastore.command("upload")
@click.argument("src_dir", type=click.Path(exists=True, file_okay=False))
@_datastore_option
@click.option("--target-path", metavar="P", help="The folder on the datastore (default: its root).")
@_overwrite_option
@workspace_options
def upload_cmd(
    src_dir: str,
    datastore_name: str | None,
    target_path: str | None,
    overwrite: bool,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Upload every file under SRC_DIR to a datastore (a progress bar on a terminal)."""
    from headwater.sdk.datastore import Datastore

    with open_workspace(workspace_name, folder) as ws:
        ds = Datastore(ws, datastore_name)
        ref = ds.upload(src_dir, target_path=target_path, overwrite=overwrite, show_progress=output.is_terminal())
        where = ref.path_on_datastore or "/"
        output.echo(f"Uploaded {src_dir} to datastore {ds.name!r} at {where!r}")


@datastore.command("download")
@click.argument("target_dir", type=click.Path(file_okay=False))
@_datastore_option
@click.option("--prefix", metavar="P", help="Only paths starting with P (end it with / for a folder).")
@_overwrite_option
@workspace_options
def download_cmd(
    target_dir: str,
    datastore_name: str | None,
    prefix: str | None,
    overwrite: bool,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Download files from a datastore into TARGET_DIR, keeping their datastore paths (a progress bar on a terminal)."""
    from headwater.sdk.datastore import Datastore

    with open_workspace(workspace_name, folder) as ws:
        ds = Datastore(ws, datastore_name)
        count = ds.download(target_dir, prefix=prefix, overwrite=overwrite, show_progress=output.is_terminal())
    output.echo(f"Downloaded {count} file{'' if count == 1 else 's'} from datastore {ds.name!r} to {target_dir}")
