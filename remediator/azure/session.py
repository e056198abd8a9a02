"""Where the bot talks to ARM and as whom: endpoint, CA bundle, credential.

The CLI/config layer resolves flags and environment; this module takes explicit values.
``arm_endpoint=None`` means public Azure. A custom endpoint (Azure Stack Hub, a sovereign cloud,
the project's emulator) is reached with the same unmodified SDK clients: ``base_url`` the
endpoint, ``credential_scopes`` ``{endpoint}/.default``, ``connection_verify`` the CA bundle.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import AzureAuthorityHosts, ClientSecretCredential, DefaultAzureCredential

from ..errors import ConfigError
from .arm_errors import register_secret, to_access_error

PUBLIC_ARM_ENDPOINT = "https://management.azure.com"
MICROSOFT_AUTHORITY_HOSTS = frozenset(
    {AzureAuthorityHosts.AZURE_PUBLIC_CLOUD, AzureAuthorityHosts.AZURE_CHINA, AzureAuthorityHosts.AZURE_GOVERNMENT}
)


@dataclass(frozen=True)
class ArmTarget:
    """An ARM endpoint and how to trust it."""

    endpoint: str = PUBLIC_ARM_ENDPOINT
    ca_bundle: str | None = None

    @classmethod
    def create(cls, arm_endpoint: str | None = None, ca_bundle: str | None = None) -> ArmTarget:
        endpoint = (arm_endpoint or PUBLIC_ARM_ENDPOINT).rstrip("/")
        if not endpoint.lower().startswith("https://"):
            # azure-core refuses bearer tokens over plain http; say so before any request.
            raise ConfigError(f"ARM endpoint must be https://, got {endpoint!r}")
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise ConfigError(f"CA bundle not found: {ca_bundle}")
        return cls(endpoint=endpoint, ca_bundle=ca_bundle)

    @property
    def credential_scope(self) -> str:
        return f"{self.endpoint}/.default"

    @property
    def connection_verify(self) -> str | bool:
        return self.ca_bundle if self.ca_bundle else True


class EmulatorEndpoint(Protocol):
    """What `remediator.emulator` hands out when it serves (duck-typed: no import of the emulator)."""

    @property
    def url(self) -> str: ...
    @property
    def ca_path(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    @property
    def authority(self) -> str: ...


def default_credential(ca_bundle: str | None = None) -> TokenCredential:
    """``DefaultAzureCredential`` (CLI login, managed identity, workload identity, environment).

    ``AZURE_AUTHORITY_HOST`` picks the login endpoint of a sovereign cloud or a private authority;
    instance discovery (a call to Microsoft's public cloud) is only meaningful for Microsoft's own
    authorities, so it is turned off for any other. The CA bundle is passed to the credentials
    that make HTTP requests themselves.
    """
    authority = os.environ.get("AZURE_AUTHORITY_HOST") or None
    kwargs: dict[str, object] = {"authority": authority}
    if ca_bundle:
        kwargs["connection_verify"] = ca_bundle
    if authority and _authority_host(authority) not in MICROSOFT_AUTHORITY_HOSTS:
        kwargs["disable_instance_discovery"] = True
    try:
        return DefaultAzureCredential(**kwargs)
    except (ValueError, ClientAuthenticationError) as exc:
        raise to_access_error(exc) from None


def _authority_host(authority: str) -> str:
    return urlsplit(authority if "://" in authority else f"https://{authority}").hostname or ""


def endpoint_credential(ep: EmulatorEndpoint) -> TokenCredential:
    """The client-secret credential that reaches an emulator (or any ARM with its own authority)."""
    return ClientSecretCredential(
        ep.tenant_id,
        ep.client_id,
        ep.client_secret,
        authority=ep.authority,
        disable_instance_discovery=True,
        connection_verify=ep.ca_path,
    )


class CachingCredential:
    """One token per scope for every client of a session, refreshed shortly before it expires.

    Each SDK client's auth policy keeps its own token, so N clients would ask the credential N
    times; ``AzureCliCredential`` runs ``az`` for every ask and holds no cache of its own.
    Requests that carry claims (a CAE challenge) or another tenant go straight to the credential.
    """

    def __init__(self, inner: TokenCredential, refresh_margin_seconds: float = 300.0) -> None:
        self.inner = inner
        self._margin = refresh_margin_seconds
        self._tokens: dict[tuple[tuple[str, ...], bool], AccessToken] = {}
        self._lock = threading.Lock()

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        if claims or tenant_id:
            return self.inner.get_token(*scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, **kwargs)
        key = (scopes, enable_cae)
        # Held while fetching: concurrent clients wait for one token instead of each fetching one.
        with self._lock:
            token = self._tokens.get(key)
            if token is None or token.expires_on - self._margin <= time.time():
                token = self.inner.get_token(*scopes, enable_cae=enable_cae, **kwargs)
                self._tokens[key] = token
            return token

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


class ArmSession:
    """An `ArmTarget` plus the credential used for it; owns the credential's lifetime."""

    def __init__(
        self,
        target: ArmTarget,
        credential: TokenCredential | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.target = target
        # Strings that must never appear in a message (a client secret we were handed).
        self.secrets = secrets
        for secret in secrets:
            register_secret(secret)
        self._credential = credential
        self._lock = threading.Lock()
        self._owns_credential = credential is None
        self._shared: CachingCredential | None = None

    @classmethod
    def create(
        cls,
        arm_endpoint: str | None = None,
        ca_bundle: str | None = None,
        credential: TokenCredential | None = None,
    ) -> ArmSession:
        return cls(ArmTarget.create(arm_endpoint, ca_bundle), credential)

    @classmethod
    def for_endpoint(cls, ep: EmulatorEndpoint) -> ArmSession:
        return cls(ArmTarget.create(ep.url, ep.ca_path), endpoint_credential(ep), secrets=(ep.client_secret,))

    @property
    def credential(self) -> TokenCredential:
        # Built on first use: DefaultAzureCredential probes the environment, which is wasted
        # work for commands that never reach Azure.
        with self._lock:
            if self._credential is None:
                self._credential = default_credential(self.target.ca_bundle)
            if self._shared is None:
                self._shared = CachingCredential(self._credential)
            return self._shared

    def check_access(self) -> None:
        """Get one token now, so a missing login fails before any inventory work starts."""
        try:
            self.credential.get_token(self.target.credential_scope)
        except ClientAuthenticationError as exc:
            raise to_access_error(exc, *self.secrets) from None

    def close(self) -> None:
        with self._lock:
            cred = self._credential
        close = getattr(cred, "close", None)
        if self._owns_credential and callable(close):
            close()


__all__ = [
    "PUBLIC_ARM_ENDPOINT",
    "ArmSession",
    "ArmTarget",
    "EmulatorEndpoint",
    "default_credential",
    "endpoint_credential",
]
