"""``headwater studio``: starts the server when none runs and prints (or opens) a one-time login URL."""

from __future__ import annotations

import re

import pytest
import requests

from headwater import Workspace
from headwater.ops.server_process import running_server
from headwater.ops.studio_session import SESSION_COOKIE
from tests.cli.conftest import Cli
from tests.server.conftest import no_server_left  # noqa: F401  (fixture)


@pytest.mark.slow
@pytest.mark.usefixtures("no_server_left")
def test_studio_starts_the_server_and_prints_a_login_url_that_works_once(hw: Cli, cli_ws: Workspace) -> None:
    assert running_server(cli_ws.folder) is None
    out = hw("studio", "-w", "test-ws", "--no-browser", "--run", "r1").stdout
    info = running_server(cli_ws.folder)
    assert info is not None and f"{info.url}/studio/" in out
    found = re.search(r"(http://\S+/studio/login\?\S+)", out)
    assert found is not None, out
    url = found.group(1)
    assert "hw_" not in url  # a login code, never the token
    answer = requests.get(url, allow_redirects=False, timeout=30)
    assert answer.status_code == 303 and answer.headers["location"] == "/studio/runs/r1"
    assert SESSION_COOKIE in answer.cookies
    assert requests.get(url, allow_redirects=False, timeout=30).status_code == 401
