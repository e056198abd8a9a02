"""The emulator's Python API: load an estate, serve it over HTTPS, inspect its state."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from remediator.emulator.app import all_routes
from remediator.emulator.auth import Principal, TokenAuthority
from remediator.emulator.dispatch import EmulatorWsgi
from remediator.emulator.estate_schema import load_estate
from remediator.emulator.knobs import Knobs
from remediator.emulator.seed import build_state
from remediator.emulator.server import serve_app, throwaway_tls
from remediator.emulator.shapes import arm_view
from remediator.emulator.state import EmulatorState, LogEntry


@dataclass(frozen=True)
class Endpoint:
    """Where a served emulator is, and the credentials and CA a client needs to reach it."""

    url: str
    ca_path: str
    tenant_id: str
    client_id: str
    client_secret: str

    @property
    def authority(self) -> str:
        """What azure-identity takes as ``authority`` (MSAL appends ``/{tenant}``)."""
        return self.url

    def env(self) -> dict[str, str]:
        """Environment variables that point a separate process at this emulator."""
        return {
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_AUTHORITY_HOST": self.authority,
            "REMEDIATOR_ARM_ENDPOINT": self.url,
            "REMEDIATOR_CA_BUNDLE": self.ca_path,
        }


class Emulator:
    """An estate loaded into an emulated tenant. ``serve()`` it; read its state back in tests."""

    def __init__(self, state: EmulatorState, *, label: str = "<dict>", principal: Principal | None = None) -> None:
        self.label = label
        self.state = state
        self.authority = TokenAuthority(state.tenant_id, principal)

    @classmethod
    def load(cls, source: str | Path | Mapping[str, Any], **knob_overrides: Any) -> Emulator:
        """From a bundled estate NAME (``"demo"``), a file path, or a parsed dict.

        Raises :class:`EstateError` (one line, with the JSON path) for a bad estate.
        ``knob_overrides`` replace the estate's ``emulator`` knobs (None values are ignored).
        """
        label, estate = load_estate(source)  # a private copy: the state may take it over
        section = estate.get("emulator") or {}
        knobs = Knobs.from_estate(section).with_overrides(**knob_overrides)
        pinned = section.get("principal")
        principal = (
            Principal(
                client_id=pinned["clientId"],
                client_secret=pinned["clientSecret"],
                object_id=pinned.get("objectId") or pinned["clientId"],
            )
            if pinned
            else None
        )
        return cls(build_state(estate, knobs, owned=True), label=label, principal=principal)

    @property
    def tenant_id(self) -> str:
        return self.state.tenant_id

    @property
    def principal_id(self) -> str:
        """The object id of the service principal the emulator issues tokens to."""
        return self.authority.principal.object_id

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[Endpoint]:
        """Serve over HTTPS on a background thread until the ``with`` block ends."""
        public_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        hosts = tuple(dict.fromkeys(("127.0.0.1", "localhost", public_host)))
        app = EmulatorWsgi(self.state, self.authority, all_routes())
        with throwaway_tls(hosts) as tls, serve_app(app, host, port, tls) as bound_port:
            yield Endpoint(
                url=f"https://{public_host}:{bound_port}",
                ca_path=str(tls.ca_path),
                tenant_id=self.state.tenant_id,
                client_id=self.authority.principal.client_id,
                client_secret=self.authority.principal.client_secret,
            )

    # --- test access ---------------------------------------------------------------------------

    def get(self, resource_id: str) -> dict[str, Any] | None:
        """The resource as ARM would return it with ``$expand=instanceView`` (a copy), or None."""
        with self.state.lock:
            resource = self.state.store.get_live(resource_id)
            return arm_view(resource, expand_instance_view=True) if resource is not None else None

    def provider_state(self, subscription_id: str, namespace: str) -> str:
        with self.state.lock:
            return self.state.provider_state(subscription_id, namespace)

    def advance(self, by: timedelta | float) -> datetime:
        """Move the simulated clock forward (seconds or a timedelta); what fell due happens now."""
        return self.state.advance(by)

    def policy_states(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return copy.deepcopy(self.state.policy_states)

    @property
    def handler_errors(self) -> list[str]:
        """Unexpected exceptions raised by route handlers (each was answered with a 500)."""
        with self.state.lock:
            return list(self.state.handler_errors)

    @property
    def request_log(self) -> list[LogEntry]:
        """Every request served so far (a snapshot list)."""
        with self.state.lock:
            return list(self.state.request_log)
