"""`AzureBackend`: the engine's `Backend` over real ARM (or anything that speaks it, like the emulator)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from azure.core.credentials import TokenCredential

from ..estate import Estate
from ..model import Change, Scope
from ..playbook import Needs
from .actions import get_action
from .arm_errors import arm_errors
from .clients import ArmClients
from .inventory import read_estate
from .session import ArmSession, EmulatorEndpoint
from .settings import ApplySettings
from .write_guard import WriteScope, check_write

SETTLING_ACTIONS = frozenset({"create-role-assignment"})


class AzureBackend:
    """Reads the estate in bulk and runs registered actions, through one `ArmClients`."""

    def __init__(self, session: ArmSession, settings: ApplySettings | None = None) -> None:
        self.session = session
        self.settings = settings or ApplySettings()
        self.clients = ArmClients(session, self.settings)
        # Set by the first inventory: writes land only below what it resolved (see write_guard).
        self.write_scope: WriteScope | None = None

    @classmethod
    def create(
        cls,
        arm_endpoint: str | None = None,
        ca_bundle: str | None = None,
        credential: TokenCredential | None = None,
        settings: ApplySettings | None = None,
    ) -> AzureBackend:
        return cls(ArmSession.create(arm_endpoint, ca_bundle, credential), settings)

    @classmethod
    def for_endpoint(cls, ep: EmulatorEndpoint, settings: ApplySettings | None = None) -> AzureBackend:
        return cls(ArmSession.for_endpoint(ep), settings)

    def read_estate(self, scope: Scope, needs: Needs, now: datetime | None) -> Estate:
        estate = read_estate(self.clients, scope, needs, now)
        if self.write_scope is None:
            self.write_scope = WriteScope(
                frozenset(s.subscription_id.lower() for s in estate.subscriptions), scope.management_group
            )
        return estate

    def read_state(self, change: Change) -> Mapping[str, Any]:
        action = get_action(change.action)
        # Actions wrap their own calls; this catches an SDK error one of them let through.
        with arm_errors():
            return action.read(self.clients, change)

    def execute(self, change: Change) -> str:
        action = get_action(change.action)
        check_write(change, self.write_scope)
        with arm_errors():
            return action.execute(self.clients, change)

    def settle(self, applied: Sequence[Change]) -> str:
        """Wait, once, for what ARM applies late before the next group of changes starts.

        A role assignment is accepted at once but authorizes minutes later; without the wait, the
        remediation tasks that follow fail with AuthorizationFailed against real Azure.
        """
        if any(c.action in SETTLING_ACTIONS for c in applied) and self.settings.role_propagation_wait > 0:
            wait = min(self.settings.role_propagation_wait, self.settings.control.remaining())
            self.settings.control.sleep(wait, "waiting for new role assignments to take effect")
            return f"waited {self.settings.role_propagation_wait:g}s for new role assignments to take effect"
        return ""

    def close(self) -> None:
        self.clients.close()
        self.session.close()
