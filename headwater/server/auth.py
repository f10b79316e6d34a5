"""Bearer-token authorization: ``Depends(require("submit"))`` on a route.

401 (with ``WWW-Authenticate: Bearer``) when the request has no token, or one that is unknown or
revoked; 403 when the token's scope is below the route's (admin ⊃ submit ⊃ read).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from headwater.server.deps import get_store
from headwater.store.metadata import MetadataStore
from headwater.store.repo_tokens import SCOPES, TokenRecord

__all__ = ["bearer", "require"]

bearer = HTTPBearer(
    auto_error=False,
    description="A Headwater API token (`headwater token create --name N --scope read|submit|admin`).",
)


def require(scope: str) -> Callable[..., TokenRecord]:
    """A dependency that lets a request through only with a live token of ``scope`` or above."""
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")

    def dependency(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
        store: MetadataStore = Depends(get_store),
    ) -> TokenRecord:
        from headwater.ops.tokens import verify_token

        record = None if credentials is None else verify_token(store, credentials.credentials)
        if record is None:
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
