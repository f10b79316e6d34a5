"""Authorization: ``Depends(require("submit"))`` on a route; a bearer token or a studio session.

A request is let through with a live bearer token (``Authorization: Bearer hw_...``) or a studio
session cookie (:mod:`headwater.ops.studio_session`: signed, carrying the token's id and scope,
checked against the token on every request). 401 (with ``WWW-Authenticate: Bearer``) when it has
neither, or one that is unknown, expired or revoked — except that a browser asking for a studio
page (``/studio/...``, not ``/studio/api/...``) is sent to the login page instead; 403 when the
token's scope is below the route's (admin ⊃ submit ⊃ read).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from headwater.server.deps import get_store
from headwater.store.metadata import MetadataStore
from headwater.store.repo_tokens import SCOPES, TokenRecord

__all__ = ["LoginRequired", "bearer", "require", "session_secret", "session_token"]

bearer = HTTPBearer(
    auto_error=False,
    description="A Headwater API token (`headwater token create --name N --scope read|submit|admin`).",
)


class LoginRequired(Exception):
    """A studio page was asked for without a session: the app redirects to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def session_secret(request: Request) -> bytes:
    """The workspace's session secret (read once per app from the secrets file)."""
    secret: bytes | None = getattr(request.app.state, "session_secret", None)
    if secret is None:
        from headwater.ops.studio_session import session_secret as read_secret

        secret = request.app.state.session_secret = read_secret(request.app.state.ws_folder)
    return secret


def session_token(request: Request, store: MetadataStore) -> TokenRecord | None:
    """The live token of the request's studio session cookie, or None."""
    from headwater.ops.studio_session import SESSION_COOKIE, read_session

    value = request.cookies.get(SESSION_COOKIE)
    return None if value is None else read_session(store, value, session_secret(request))


def _is_page(request: Request) -> bool:
    path = request.url.path
    return request.method == "GET" and path.startswith("/studio") and not path.startswith("/studio/api/")


def require(scope: str) -> Callable[..., TokenRecord]:
    """A dependency that lets a request through only with a live token of ``scope`` or above."""
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
        store: MetadataStore = Depends(get_store),
    ) -> TokenRecord:
        from headwater.ops.tokens import verify_token

        record = None if credentials is None else verify_token(store, credentials.credentials)
        if record is None and credentials is None:
            record = session_token(request, store)
        if record is None:
            if credentials is None and _is_page(request):
                query = request.url.query
                raise LoginRequired(request.url.path + (f"?{query}" if query else ""))
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="A valid API token is required: send 'Authorization: Bearer <token>' "
                "(make one with `headwater token create --name NAME`).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not record.allows(scope):
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"Token {record.name!r} has scope {record.scope!r}; this call needs scope {scope!r} or above.",
            )
        return record

    dependency.__name__ = f"require_{scope}"
    return dependency
