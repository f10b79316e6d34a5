"""SDK v1's authentication classes give headers with the local workspace's own token."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.errors import ConfigurationError
from headwater.ops.tokens import LOCAL_TOKEN_KEY, verify_token
from headwater.store.secrets import SecretStore

pytestmark = pytest.mark.usefixtures("azureml_on")


def _every_class() -> list[object]:
    from azureml.core.authentication import (
        AbstractAuthentication,
        ArmTokenAuthentication,
        AzureCliAuthentication,
        InteractiveLoginAuthentication,
        MsiAuthentication,
        ServicePrincipalAuthentication,
        TokenAuthentication,
    )

    return [
        AbstractAuthentication(),
        InteractiveLoginAuthentication(force=True, tenant_id="tenant"),
        ServicePrincipalAuthentication(
            tenant_id="t", service_principal_id="id", service_principal_password="pw", cloud="AzureCloud"
        ),
        MsiAuthentication(identity_config={"client_id": "x"}),
        AzureCliAuthentication(cloud="AzureCloud"),
        TokenAuthentication(lambda audience: "aad-token"),
        ArmTokenAuthentication("arm-token"),
    ]


@pytest.fixture
def configured(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """``ws`` named in ``.azureml/config.json`` of the current folder (as SDK v1 projects have it)."""
    project = tmp_path / "project"
    project.mkdir()
    ws.write_config(project)
    monkeypatch.chdir(project / ".azureml")  # from_config searches upwards
    monkeypatch.delenv("HEADWATER_WORKSPACE", raising=False)
    return ws


def test_every_class_gives_a_bearer_header_with_the_workspace_admin_token(configured: Workspace) -> None:
    headers = [auth.get_authentication_header() for auth in _every_class()]  # type: ignore[attr-defined]
    token = SecretStore(configured.folder).get(LOCAL_TOKEN_KEY)
    assert token is not None and token.startswith("hw_")
    assert headers == [{"Authorization": f"Bearer {token}"}] * len(headers)
    record = verify_token(configured.metadata_store, token)
    assert record is not None and record.scope == "admin"


def test_get_token_and_signed_session(configured: Workspace) -> None:
    import requests
    from azureml.core.authentication import AccessToken, Audience, InteractiveLoginAuthentication, TokenAuthentication

    auth = InteractiveLoginAuthentication()
    got = auth.get_token("https://management.azure.com/.default")
    assert isinstance(got, AccessToken) and got.token.startswith("hw_") and got.expires_on > 0
    assert TokenAuthentication(lambda a: "aad").get_token(Audience.AZUREML) == got.token
    session = auth.signed_session()
    try:
        assert isinstance(session, requests.Session)
        assert session.headers["Authorization"] == f"Bearer {got.token}"
    finally:
        session.close()
    mine = requests.Session()
    try:
        assert auth.signed_session(mine) is mine and mine.headers["Authorization"] == f"Bearer {got.token}"
    finally:
        mine.close()


def test_the_environment_names_the_workspace_when_no_config_is_found(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azureml.core.authentication import MsiAuthentication

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HEADWATER_WORKSPACE", raising=False)
    with pytest.raises(ConfigurationError, match=r"config\.json.*HEADWATER_WORKSPACE"):
        MsiAuthentication().get_authentication_header()
    monkeypatch.setenv("HEADWATER_WORKSPACE", ws.name)
    header = MsiAuthentication().get_authentication_header()
    assert header == {"Authorization": f"Bearer {SecretStore(ws.folder).get(LOCAL_TOKEN_KEY)}"}


def test_azureml_token_authentication_carries_the_token_it_is_given() -> None:
    from azureml.core.authentication import AzureMLTokenAuthentication

    expiry = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    auth = AzureMLTokenAuthentication.create("hw_given", expiry, None, "sub", "rg", "ws", "exp", "run-1")
    assert auth.token == "hw_given" and auth.expiry_time == expiry
    assert auth.get_authentication_header() == {"Authorization": "Bearer hw_given"}
    assert auth.get_token() == ("hw_given", int(expiry.timestamp()))
    auth.set_token("hw_other", None)
    assert auth.get_authentication_header() == {"Authorization": "Bearer hw_other"}
    assert "hw_other" not in repr(auth)
    assert (
        AzureMLTokenAuthentication.EXPIRATION_THRESHOLD_IN_SECONDS
        > AzureMLTokenAuthentication.REFRESH_INTERVAL_IN_SECONDS
    )
