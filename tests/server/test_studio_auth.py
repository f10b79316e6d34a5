"""The studio's session cookie: logging in with a token or a one-time code, and what a session may do."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from headwater.ops.studio_links import login_url
from headwater.ops.studio_session import SESSION_COOKIE
from headwater.ops.tokens import create_token, revoke_token
from tests.server.conftest import LiveServer

pytestmark = pytest.mark.slow


def _login(live_server: LiveServer, token: str, next_url: str = "/studio/") -> requests.Session:
    session = requests.Session()
    answer = session.get(
        f"{live_server.url}/studio/login", params={"token": token, "next": next_url}, allow_redirects=False, timeout=30
    )
    assert answer.status_code == 303, answer.text
    return session


def test_a_page_without_a_session_redirects_to_the_login_form(live_server: LiveServer) -> None:
    answer = requests.get(f"{live_server.url}/studio/?status=Failed", allow_redirects=False, timeout=30)
    assert answer.status_code == 303
    assert parse_qs(urlsplit(answer.headers["location"]).query) == {"next": ["/studio/?status=Failed"]}
    form = requests.get(f"{live_server.url}{answer.headers['location']}", timeout=30)
    assert form.status_code == 200 and 'name="token"' in form.text and 'value="/studio/?status=Failed"' in form.text


def test_a_token_logs_in_with_a_signed_httponly_strict_cookie_that_carries_no_token(live_server: LiveServer) -> None:
    token = live_server.token("read")
    answer = requests.get(
        f"{live_server.url}/studio/login",
        params={"token": token, "next": "/studio/?kind=pipeline"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/studio/?kind=pipeline"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert token not in cookie and token.removeprefix("hw_") not in cookie
    session = _login(live_server, token)
    assert session.get(f"{live_server.url}/studio/", timeout=30).status_code == 200
    # the API's routes take the cookie as they take the bearer token, with the token's scope
    assert session.get(f"{live_server.url}/api/runs/nope", timeout=30).status_code == 404
    assert session.get(f"{live_server.url}/api/tokens", timeout=30).status_code == 403
    # a forged cookie is no session
    forged = requests.Session()
    genuine = session.cookies.get(SESSION_COOKIE)
    assert genuine is not None
    forged.cookies.set(SESSION_COOKIE, genuine[:-3] + "AAA")
    assert forged.get(f"{live_server.url}/studio/", allow_redirects=False, timeout=30).status_code == 303
    assert forged.get(f"{live_server.url}/api/runs/nope", timeout=30).status_code == 401


def test_revoking_the_token_ends_its_sessions(live_server: LiveServer) -> None:
    token = create_token(live_server.ws.metadata_store, "browser", "read")
    session = _login(live_server, token)
    assert session.get(f"{live_server.url}/studio/", allow_redirects=False, timeout=30).status_code == 200
    revoke_token(live_server.ws.metadata_store, "browser")
    assert session.get(f"{live_server.url}/studio/", allow_redirects=False, timeout=30).status_code == 303


def test_bad_tokens_and_foreign_next_urls_are_refused(live_server: LiveServer) -> None:
    answer = requests.get(f"{live_server.url}/studio/login", params={"token": "hw_nope"}, timeout=30)
    assert answer.status_code == 401 and "unknown or revoked" in answer.text
    answer = requests.post(f"{live_server.url}/studio/login", data={"token": "hw_nope"}, timeout=30)
    assert answer.status_code == 401
    for bad in ("//evil.example/x", "https://evil.example/", "/api/tokens", "/\\evil.example"):
        answer = requests.post(
            f"{live_server.url}/studio/login",
            data={"token": live_server.token("read"), "next": bad},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/studio/", bad


def test_a_login_code_works_once(live_server: LiveServer) -> None:
    ws = live_server.ws
    url = login_url(live_server.url, ws.folder, ws.metadata_store, "/studio/runs/abc")
    code = parse_qs(urlsplit(url).query)["code"][0]
    assert live_server.token("admin") not in url
    first = requests.get(url, allow_redirects=False, timeout=30)
    assert first.status_code == 303 and first.headers["location"] == "/studio/runs/abc"
    assert SESSION_COOKIE in first.cookies
    again = requests.get(url, allow_redirects=False, timeout=30)
    assert again.status_code == 401 and "already used" in again.text
    tampered = requests.get(f"{live_server.url}/studio/login", params={"code": "x" + code}, timeout=30)
    assert tampered.status_code == 401


def test_static_files_are_served_without_a_session_and_never_from_outside_their_folder(
    live_server: LiveServer,
) -> None:
    css = requests.get(f"{live_server.url}/studio/static/studio.css", timeout=30)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for bad in ("../templating.py", "..%2Ftemplating.py", "%2e%2e/%2e%2e/app.py", "vendor/VENDORED.md", "nope.js"):
        assert requests.get(f"{live_server.url}/studio/static/{bad}", timeout=30).status_code == 404, bad
