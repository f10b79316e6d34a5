"""The studio's login and logout, and its static files (``/studio/static/...``, no token needed).

``GET /studio/login?token=hw_...`` or the form's ``POST /studio/login`` (a token), or
``GET /studio/login?code=...`` (a one-time code from ``headwater studio``), set the session cookie
and redirect to ``next`` (a studio path). ``GET /studio/logout`` drops the cookie.
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from headwater.server.auth import session_secret
from headwater.server.deps import get_store
from headwater.server.studio.templating import STATIC_DIR, render
from headwater.store.metadata import MetadataStore
from headwater.store.repo_tokens import TokenRecord

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_used_nonces: set[str] = set()
_nonce_lock = threading.Lock()


def _safe_next(next_url: str | None) -> str:
    """Only a path inside the studio (no scheme, no host, no ``//``) is followed after logging in."""
    if not next_url or not next_url.startswith("/studio") or next_url.startswith("//") or "\\" in next_url:
        return "/studio/"
    return next_url


def _logged_in(request: Request, record: TokenRecord, next_url: str | None) -> Response:
    from headwater.ops.studio_session import SESSION_COOKIE, SESSION_SECONDS, make_session

    response = RedirectResponse(_safe_next(next_url), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        make_session(record, session_secret(request)),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
    )
    return response


def _login_page(request: Request, next_url: str | None, error: str | None = None) -> Response:
    return render(request, "login.html", status_code=401 if error else 200, next=_safe_next(next_url), error=error)


@router.get("/studio/login")
def login(
    request: Request,
    token: str | None = Query(None),
    code: str | None = Query(None),
    next: str | None = Query(None),
    store: MetadataStore = Depends(get_store),
) -> Response:
    from headwater.ops.studio_session import read_login_code
    from headwater.ops.tokens import verify_token

    if code is not None:
        found = read_login_code(store, code, session_secret(request))
        if found is not None:
            record, nonce = found
            with _nonce_lock:
                fresh = nonce not in _used_nonces
                _used_nonces.add(nonce)
            if fresh:
                return _logged_in(request, record, next)
        return _login_page(request, next, "That login link has expired or was already used; log in with a token.")
    if token is not None:
        live = verify_token(store, token)
        if live is not None:
            return _logged_in(request, live, next)
        return _login_page(request, next, "That token is unknown or revoked.")
    return _login_page(request, next)


@router.post("/studio/login")
def login_form(
    request: Request,
    token: str = Form(...),
    next: str | None = Form(None),
    store: MetadataStore = Depends(get_store),
) -> Response:
    from headwater.ops.tokens import verify_token

    live = verify_token(store, token.strip())
    if live is None:
        return _login_page(request, next, "That token is unknown or revoked.")
    return _logged_in(request, live, next)


@router.get("/studio/logout")
def logout() -> Response:
    from headwater.ops.studio_session import SESSION_COOKIE

    response = RedirectResponse("/studio/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/studio/static/{path:path}")
def static(path: str) -> Response:
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file() or Path(path).suffix == ".md":
        raise HTTPException(status_code=404, detail=f"No static file {path!r}")
    return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})
