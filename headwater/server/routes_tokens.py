"""``GET /api/tokens`` (scope admin): the workspace's API tokens, never the tokens themselves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from headwater.server.auth import require
from headwater.server.deps import get_store
from headwater.store.metadata import MetadataStore

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["tokens"])


@router.get(
    "/tokens",
    summary="The workspace's API tokens (admin)",
    description='`{"value": [...]}`: each token\'s name, scope, creation time, last use and revocation time. '
    "Neither a token nor its hash is ever shown; tokens are made and revoked with `headwater token`.",
    responses={401: {"description": "No valid token"}, 403: {"description": "The token's scope is not admin"}},
    dependencies=[Depends(require("admin"))],
)
def list_tokens(store: MetadataStore = Depends(get_store)) -> dict[str, Any]:
    from headwater.ops.tokens import list_tokens as tokens

    return {
        "value": [
            {
                "name": t.name,
                "scope": t.scope,
                "createdUtc": t.created_at,
                "lastUsedUtc": t.last_used_at,
                "revokedUtc": t.revoked_at,
            }
            for t in tokens(store)
        ]
    }
