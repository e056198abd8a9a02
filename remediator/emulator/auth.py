"""The emulator as its own token authority (what Microsoft Entra ID is for Azure).

azure-identity's ``ClientSecretCredential(tenant, client, secret, authority=<emulator url>,
disable_instance_discovery=True, connection_verify=<ca>)`` drives MSAL, which requests
``{authority}/{tenant}/v2.0/.well-known/openid-configuration`` (msal/authority.py) and then POSTs
the client-credentials grant to the ``token_endpoint`` that document names. Tokens are HMAC-signed
JWTs (so they carry the caller's object id and survive without server-side bookkeeping); ARM
requests must carry one as ``Authorization: Bearer``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remediator.emulator.routing import Response, arm_error

TOKEN_LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class Principal:
    """The one service principal the emulator knows: the bot's identity."""

    client_id: str
    client_secret: str
    object_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """OpenID discovery + token endpoint for one tenant, and bearer-token checks for ARM."""

    def __init__(self, tenant_id: str, principal: Principal | None = None) -> None:
        self.tenant_id = tenant_id
        self.principal = principal or Principal(
            client_id=str(uuid.uuid4()), client_secret=secrets.token_urlsafe(24), object_id=str(uuid.uuid4())
        )
        self._key = secrets.token_bytes(32)

    # --- the authority endpoints ------------------------------------------------------------

    def handle(self, method: str, path: str, form: Mapping[str, str], base_url: str) -> Response | None:
        """Answer an authority request, or None when ``path`` is not one (then it is ARM)."""
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2:
            return None
        tenant, rest = parts[0], "/".join(parts[1:]).lower()
        if rest in ("v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"):
            if method != "GET":
                return None
            if tenant.lower() not in (self.tenant_id.lower(), "organizations", "common"):
                return _aad_error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
            return Response(200, self.openid_configuration(base_url))
        if rest in ("oauth2/v2.0/token", "oauth2/token") and method == "POST":
            if tenant.lower() != self.tenant_id.lower():
                return _aad_error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
            return self.token(form, base_url)
        return None

    def openid_configuration(self, base_url: str) -> dict[str, Any]:
        root = f"{base_url}/{self.tenant_id}"
        return {
            "issuer": f"{root}/v2.0",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "tenant_region_scope": "EM",
        }

    def token(self, form: Mapping[str, str], base_url: str) -> Response:
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", "AADSTS70003: only client_credentials is supported.")
        if form.get("client_id") != self.principal.client_id:
            return _aad_error(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found.",
            )
        if not hmac.compare_digest(form.get("client_secret", ""), self.principal.client_secret):
            return _aad_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        scope = form.get("scope", "")
        audience = scope.split(" ")[0].removesuffix("/.default") if scope else base_url
        return Response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_SECONDS,
                "ext_expires_in": TOKEN_LIFETIME_SECONDS,
                "access_token": self.issue(audience, base_url),
            },
        )

    def issue(self, audience: str, base_url: str) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "HS256"}
        claims = {
            "aud": audience,
            "iss": f"{base_url}/{self.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "appid": self.principal.client_id,
            "oid": self.principal.object_id,
            "tid": self.tenant_id,
            "idtyp": "app",
        }
        signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
        signature = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(signature)

    # --- ARM side ---------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> tuple[str | None, Response | None]:
        """(object id, None) for a valid bearer token, else (None, ARM's 401 response)."""
        if not authorization:
            return None, _unauthorized(
                "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None, _unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
        claims = self._verify(token.strip())
        if claims is None:
            return None, _unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
        if int(claims.get("exp", 0)) < time.time():
            return None, _unauthorized("ExpiredAuthenticationToken", "The access token expiry UTC time is in the past.")
        return str(claims.get("oid", "")), None

    def _verify(self, token: str) -> dict[str, Any] | None:
        pieces = token.split(".")
        if len(pieces) != 3:
            return None
        expected = hmac.new(self._key, f"{pieces[0]}.{pieces[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(pieces[2]), expected):
                return None
            claims = json.loads(_unb64(pieces[1]))
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None


def _aad_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description, "error_codes": []})


def _unauthorized(code: str, message: str) -> Response:
    response = arm_error(401, code, message)
    response.headers["WWW-Authenticate"] = 'Bearer authorization_uri="", error="invalid_token"'
    return response
