"""Every route but /api/health and the OpenAPI page needs a live token of a high-enough scope."""

from __future__ import annotations

import pytest
import requests

from headwater.ops.tokens import create_token, revoke_token
from tests.server.conftest import LiveServer

pytestmark = pytest.mark.slow


def test_no_bad_or_revoked_token_is_401_with_a_bearer_challenge(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/runs/some-run"
    store = live_server.ws.metadata_store
    revoked = create_token(store, "gone", "admin")
    revoke_token(store, "gone")
    for headers in (
        {},
        {"Authorization": "Bearer hw_not-a-real-token"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {live_server.token('admin')}"},
        {"Authorization": f"Bearer {revoked}"},
    ):
        answer = requests.get(url, headers=headers, timeout=30)
        assert answer.status_code == 401, headers
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert "headwater token create" in answer.json()["detail"]
    assert requests.get(url, headers=live_server.headers("read"), timeout=30).status_code == 404  # let through


def test_a_token_revoked_while_the_server_runs_stops_working(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/tokens"
    token = create_token(live_server.ws.metadata_store, "ci", "admin")
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 200
    revoke_token(live_server.ws.metadata_store, "ci")
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 401


def test_a_scope_below_the_route_is_403(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/tokens"
    for scope in ("read", "submit"):
        answer = requests.get(url, headers=live_server.headers(scope), timeout=30)
        assert answer.status_code == 403
        assert f"scope {scope!r}" in answer.json()["detail"] and "'admin'" in answer.json()["detail"]
    listed = requests.get(url, headers=live_server.headers("admin"), timeout=30)
    assert listed.status_code == 200
    names = {t["name"]: t for t in listed.json()["value"]}
    assert set(names) == {"test-read", "test-submit", "test-admin"}
    assert names["test-admin"]["lastUsedUtc"] is not None  # the call itself used it
    assert live_server.token("admin") not in listed.text


def test_health_and_the_openapi_page_need_no_token(live_server: LiveServer) -> None:
    for path in ("/api/health", "/openapi.json", "/docs"):
        assert requests.get(live_server.url + path, timeout=30).status_code == 200, path


def test_every_route_in_the_schema_but_health_refuses_a_request_without_a_token(live_server: LiveServer) -> None:
    import re

    schema = requests.get(f"{live_server.url}/openapi.json", timeout=30).json()
    checked = 0
    for path, operations in schema["paths"].items():
        if path == "/api/health":
            continue
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in operations:
            answer = requests.request(method.upper(), live_server.url + concrete, json={}, timeout=30)
            assert answer.status_code == 401, f"{method.upper()} {path} answered {answer.status_code}"
            checked += 1
    assert checked >= 5


def test_sdk_v1_auth_headers_are_accepted_by_the_workspace_server(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater.compat.auth import InteractiveLoginAuthentication, ServicePrincipalAuthentication

    monkeypatch.setenv("HEADWATER_WORKSPACE", live_server.ws.name)
    for auth in (InteractiveLoginAuthentication(), ServicePrincipalAuthentication("t", "id", "pw")):
        answer = requests.get(f"{live_server.url}/api/tokens", headers=auth.get_authentication_header(), timeout=30)
        assert answer.status_code == 200  # the workspace's own token is admin
        assert [t["name"] for t in answer.json()["value"]] == ["local"]
