"""``azureml.core.authentication``: SDK v1's authentication classes, for the local workspace.

A Headwater workspace is a local folder (or a PostgreSQL database named in its config), so there
is nobody to sign in to: the Azure credentials these classes take (tenant, service principal,
password, ARM token, callbacks) are accepted and ignored, never kept. What they *do* give is what
SDK v1 code uses them for when it calls a published pipeline's REST endpoint itself:

    requests.post(published.endpoint, headers=auth.get_authentication_header(), json=body)

``get_authentication_header()`` returns ``{"Authorization": "Bearer <token>"}`` with the local
workspace's own admin token; ``get_token()`` returns that token as an ``AccessToken``;
``signed_session()`` a ``requests.Session`` sending the header. The local workspace is the one
``Workspace.from_config()`` finds from the current folder upwards, else ``$HEADWATER_WORKSPACE``
(:mod:`headwater.sdk.local_auth`). ``AzureMLTokenAuthentication`` is the exception: it carries the
token it is given (a Headwater token, ``hw_...``), as SDK v1's run token is carried.

The first object made in a process prints one notice on stderr. Stdlib only; the workspace and its
token are looked up when a header is asked for, not before.
"""

from __future__ import annotations

import enum
import importlib
import sys
import time
from typing import Any, NamedTuple

__all__ = [
    "AbstractAuthentication",
    "AccessToken",
    "ArmTokenAuthentication",
    "Audience",
    "AzureCliAuthentication",
    "AzureMLTokenAuthentication",
    "InteractiveLoginAuthentication",
    "MsiAuthentication",
    "ServicePrincipalAuthentication",
    "TokenAuthentication",
]

#: How long an ``AccessToken`` of the local token says it is good for (the token itself does not
#: expire; it works until revoked, and asking again gives the same one).
TOKEN_LIFETIME_SECONDS = 3600

_noticed = False


def _notice(kind: str) -> None:
    global _noticed
    if not _noticed:
        _noticed = True
        print(
            f"Headwater: {kind} is accepted and ignored; Headwater's workspaces are local and need no Azure "
            "sign-in. Its get_authentication_header() carries the local workspace's own token "
            "(this notice is shown once).",
            file=sys.stderr,
        )


class AccessToken(NamedTuple):
    """SDK v1's (azure-core's) ``AccessToken``: the token and when it expires (seconds since the epoch)."""

    token: str
    expires_on: int


class _SdkEnumMeta(enum.EnumMeta):
    """Called as SDK v1's enums are, with their ``(*args, **kwds)`` signature."""

    def __call__(cls, *args: Any, **kwds: Any) -> Any:
        return super().__call__(*args, **kwds)


class Audience(enum.Enum, metaclass=_SdkEnumMeta):
    """SDK v1's token audiences; every audience gets the same local token here."""

    ARM = "ARM"
    AZUREML = "AZUREML"


def _local_token() -> str:
    from headwater.runtime.pythons import sdk_available

    if not sdk_available():
        from headwater.errors import NotSupportedError

        raise NotSupportedError(
            "The local workspace's token is read through Headwater's SDK, which this Python cannot import",
            hint="Call the REST endpoint from a process on the Python Headwater is installed for.",
        )
    # Resolved by name, as the compat loader resolves every SDK object: the SDK and the store load only
    # when a header is asked for, never when azureml.core.authentication is imported.
    return str(importlib.import_module("headwater.sdk.local_auth").local_token())


def _session(header: dict[str, str], session: Any = None) -> Any:
    try:
        import requests
    except ImportError:
        from headwater.errors import NotSupportedError

        raise NotSupportedError(
            "signed_session() returns a requests.Session, and the requests package is not installed",
            hint="pip install requests, or send get_authentication_header() with your HTTP client.",
        ) from None
    session = session if session is not None else requests.Session()
    session.headers.update(header)
    return session


class AbstractAuthentication:
    """SDK v1's base authentication class: headers carry the local workspace's own token."""

    def __init__(self, cloud: str | None = None) -> None:
        _notice(type(self).__name__)

    def _token(self) -> str:
        return _local_token()

    def get_authentication_header(self) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}`` for the local workspace's server."""
        return {"Authorization": f"Bearer {self._token()}"}

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The local workspace's token (every scope gets the same one)."""
        return AccessToken(self._token(), int(time.time()) + TOKEN_LIFETIME_SECONDS)

    def signed_session(self, session: Any = None) -> Any:
        """``session`` (default: a new ``requests.Session``) with the authentication header set."""
        return _session(self.get_authentication_header(), session)

    def __repr__(self) -> str:
        return f"{type(self).__name__}() (Azure credentials ignored by Headwater)"


class InteractiveLoginAuthentication(AbstractAuthentication):
    """SDK v1's browser/device-code sign-in: nobody to sign in to; the local token is used."""

    def __init__(self, force: bool = False, tenant_id: str | None = None, cloud: str | None = None) -> None:
        super().__init__(cloud)


class AzureCliAuthentication(AbstractAuthentication):
    """SDK v1's ``az login`` credentials: not used; the local token is."""


class ServicePrincipalAuthentication(AbstractAuthentication):
    """SDK v1's service-principal sign-in: the secret is not kept; the local token is used."""

    def __init__(
        self,
        tenant_id: str,
        service_principal_id: str,
        service_principal_password: str,
        cloud: str = "AzureCloud",
        _enable_caching: bool = True,
    ) -> None:
        super().__init__(cloud)


class MsiAuthentication(AbstractAuthentication):
    """SDK v1's managed-identity sign-in: no identity to use; the local token is used."""

    def __init__(self, cloud: str | None = None, **kwargs: Any) -> None:
        super().__init__(cloud)


class TokenAuthentication(AbstractAuthentication):
    """SDK v1's token-callback authentication: the callback (for Azure tokens) is not called."""

    def __init__(self, get_token_for_audience: Any, cloud: str | None = None) -> None:
        super().__init__(cloud)

    def get_token(self, audience: Audience = Audience.ARM) -> str:  # type: ignore[override]
        """The local workspace's token (SDK v1 returns the callback's token string for ``audience``)."""
        return self._token()


class ArmTokenAuthentication(AbstractAuthentication):
    """SDK v1's ARM-token authentication: an ARM token means nothing here; the local token is used."""

    def __init__(self, arm_access_token: str, cloud: str = "None") -> None:
        super().__init__(cloud)

    def update_arm_access_token(self, new_arm_access_token: str) -> None:
        """Accepted and ignored (the ARM token is not kept)."""


class AzureMLTokenAuthentication(AbstractAuthentication):
    """SDK v1's run-token authentication: carries the token it is given (a Headwater ``hw_...`` token).

    ``get_authentication_header()`` sends that token, so a client holding a token made with
    ``headwater token create`` can use this class as SDK v1 code uses a run token.
    """

    EXPIRATION_THRESHOLD_IN_SECONDS = 95
    REFRESH_INTERVAL_IN_SECONDS = 30

    def __init__(
        self,
        azureml_access_token: str,
        expiry_time: Any = None,
        host: str | None = None,
        subscription_id: str | None = None,
        resource_group_name: str | None = None,
        workspace_name: str | None = None,
        experiment_name: str | None = None,
        run_id: str | None = None,
        user_email: str | None = None,
        experiment_id: str | None = None,
        cloud: str = "AzureCloud",
    ) -> None:
        super().__init__(cloud)
        self._access_token = azureml_access_token
        self._expiry_time = expiry_time

    @classmethod
    def create(
        cls,
        azureml_access_token: str,
        expiry_time: Any,
        host: str | None,
        subscription_id: str | None,
        resource_group_name: str | None,
        workspace_name: str | None,
        experiment_name: str | None,
        run_id: str | None,
        user_email: str | None = None,
        experiment_id: str | None = None,
    ) -> AzureMLTokenAuthentication:
        """SDK v1's factory: the same as calling the class."""
        return cls(
            azureml_access_token,
            expiry_time,
            host,
            subscription_id,
            resource_group_name,
            workspace_name,
            experiment_name,
            run_id,
            user_email,
            experiment_id,
        )

    @property
    def token(self) -> str:
        """The token this object carries."""
        return self._access_token

    @property
    def expiry_time(self) -> Any:
        """When the token expires, as given (None: not given; Headwater tokens do not expire)."""
        return self._expiry_time

    def set_token(self, token: str, expiry_time: Any) -> None:
        """Carry ``token`` (expiring at ``expiry_time``) from now on."""
        self._access_token = token
        self._expiry_time = expiry_time

    def _token(self) -> str:
        return self._access_token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The carried token; ``expires_on`` from ``expiry_time`` when given."""
        expiry = self._expiry_time
        if hasattr(expiry, "timestamp"):
            expires_on = int(expiry.timestamp())
        elif isinstance(expiry, (int, float)):
            expires_on = int(expiry)
        else:
            expires_on = int(time.time()) + TOKEN_LIFETIME_SECONDS
        return AccessToken(self._access_token, expires_on)

    def __repr__(self) -> str:
        return f"{type(self).__name__}() (carries a token; not shown)"
