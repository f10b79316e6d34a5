"""Links into the studio: a run's page, and a one-time login URL for ``headwater studio``."""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode

from headwater.store.metadata import MetadataStore

__all__ = ["login_url", "run_url", "studio_url"]


def studio_url(server_url: str, path: str = "/studio/") -> str:
    """``path`` (a studio path) on the server at ``server_url``."""
    return server_url.rstrip("/") + path


def run_url(server_url: str, run_id: str) -> str:
    """The studio page of a run: ``{server}/studio/runs/{run_id}``."""
    return studio_url(server_url, f"/studio/runs/{quote(run_id, safe='')}")


def login_url(
    server_url: str, ws_folder: str | os.PathLike[str], store: MetadataStore, next_path: str = "/studio/"
) -> str:
    """A URL that logs a browser in (once, within minutes) as the workspace's own admin token, then
    opens ``next_path``; it carries a signed one-time code, not the token."""
    from headwater.ops.studio_session import login_code
    from headwater.ops.tokens import local_token, verify_token

    record = verify_token(store, local_token(ws_folder, store))
    assert record is not None  # local_token makes a live one
    query = urlencode({"code": login_code(ws_folder, record), "next": next_path})
    return studio_url(server_url, f"/studio/login?{query}")
