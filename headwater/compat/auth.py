"""``azureml.core.authentication``: SDK v1's authentication classes, accepted and ignored.

A Headwater workspace is a local folder (or a PostgreSQL database named in its config), so there
is nobody to sign in to. Code that builds ``InteractiveLoginAuthentication(tenant_id=...)`` or
``ServicePrincipalAuthentication(...)`` and passes it as ``auth=`` keeps working: the objects keep
no arguments (no secret is held in memory), and the first one made in a process prints one notice
on stderr saying it is ignored. Stdlib only.
"""

from __future__ import annotations

import sys

__all__ = [
    "AbstractAuthentication",
    "ArmTokenAuthentication",
    "AzureCliAuthentication",
    "AzureMLTokenAuthentication",
    "InteractiveLoginAuthentication",
    "MsiAuthentication",
    "ServicePrincipalAuthentication",
    "TokenAuthentication",
]

_noticed = False


def _notice(kind: str) -> None:
    global _noticed
    if not _noticed:
        _noticed = True
        print(
            f"Headwater: {kind} is accepted and ignored; Headwater's workspaces are local and need no Azure "
            "sign-in (this notice is shown once).",
            file=sys.stderr,
        )


class AbstractAuthentication:
    """SDK v1's base authentication class; here every subclass is accepted and ignored."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        _notice(type(self).__name__)

    def get_authentication_header(self) -> dict[str, str]:
        """No header: nothing is sent to Azure."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}() (ignored by Headwater)"


class InteractiveLoginAuthentication(AbstractAuthentication):
    """SDK v1's browser/device-code sign-in: ignored."""


class AzureCliAuthentication(AbstractAuthentication):
    """SDK v1's ``az login`` credentials: ignored."""


class ServicePrincipalAuthentication(AbstractAuthentication):
    """SDK v1's service-principal sign-in: ignored (the secret is not kept)."""


class MsiAuthentication(AbstractAuthentication):
    """SDK v1's managed-identity sign-in: ignored."""


class TokenAuthentication(AbstractAuthentication):
    """SDK v1's token-callback authentication: ignored."""


class AzureMLTokenAuthentication(AbstractAuthentication):
    """SDK v1's run-token authentication: ignored."""


class ArmTokenAuthentication(AbstractAuthentication):
    """SDK v1's ARM-token authentication: ignored."""
