"""Raw ARM calls to a served emulator with a real bearer token from its token endpoint.

The contract tests send exactly the example's request, so they use ``requests`` rather than an
SDK client (which would reshape the body and pick its own api-version).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from remediator.emulator import Endpoint


@dataclass
class ArmCaller:
    endpoint: Endpoint
    session: requests.Session = field(default_factory=requests.Session)
    _token: str = ""

    def token(self) -> str:
        """A client-credentials token, found the way MSAL finds it (OpenID configuration first)."""
        if not self._token:
            base = f"{self.endpoint.authority}/{self.endpoint.tenant_id}"
            config = self._ok(
                self.session.get(f"{base}/v2.0/.well-known/openid-configuration", timeout=30, **self._tls())
            )
            grant = {
                "grant_type": "client_credentials",
                "client_id": self.endpoint.client_id,
                "client_secret": self.endpoint.client_secret,
                "scope": f"{self.endpoint.url}/.default",
            }
            answer = self._ok(self.session.post(str(config["token_endpoint"]), data=grant, timeout=30, **self._tls()))
            self._token = str(answer["access_token"])
        return self._token

    def call(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: Any = None,
        has_body: bool = False,
        *,
        authenticated: bool = True,
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if authenticated:
            headers["Authorization"] = f"Bearer {self.token()}"
        return self.session.request(
            method,
            self.endpoint.url + path,
            params=dict(query),
            json=body if has_body else None,
            headers=headers,
            timeout=30,
            **self._tls(),
        )

    def _tls(self) -> dict[str, Any]:
        return {"verify": self.endpoint.ca_path}

    @staticmethod
    def _ok(response: requests.Response) -> dict[str, Any]:
        response.raise_for_status()
        found = response.json()
        assert isinstance(found, dict), found
        return found


def json_or_none(response: requests.Response) -> Any:
    """The body as JSON, None when empty; a non-JSON body is returned as text (and will fail a schema)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
