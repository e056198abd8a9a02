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
from .retry import RoleGrants, call_while_roles_propagate
from .session import ArmSession, EmulatorEndpoint
from .settings import ApplySettings
from .write_guard import WriteScope, check_write

# Actions that grant a principal a role, and actions whose work runs as a principal that may have
# been granted one moments ago (a remediation's deployments run as its assignment's identity).
GRANTING_ACTIONS = frozenset({"create-role-assignment"})
NEEDS_GRANTED_ROLES = frozenset({"create-remediation"})


class AzureBackend:
    """Reads the estate in bulk and runs registered actions, through one `ArmClients`."""

    def __init__(self, session: ArmSession, settings: ApplySettings | None = None) -> None:
        self.session = session
        self.settings = settings or ApplySettings()
        self.clients = ArmClients(session, self.settings)
        self.grants = RoleGrants()
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

        def attempt() -> str:
            with arm_errors():
                return action.execute(self.clients, change)

        if change.action in NEEDS_GRANTED_ROLES:
            # A role assignment is accepted at once but authorizes minutes later: work failing
            # AuthorizationFailed for a principal this run just granted is retried within the window.
            return call_while_roles_propagate(self.grants, self.settings, attempt)
        detail = attempt()
        if change.action in GRANTING_ACTIONS:
            self.grants.record(str(change.params.get("principal_id") or ""))
        return detail

    def settle(self, applied: Sequence[Change]) -> str:
        """Nothing to wait for between groups: a grant's propagation is waited out only by the work
        that needs it (`execute`), so a run that grants no role, or needs none it granted, never waits."""
        return ""

    def close(self) -> None:
        self.clients.close()
        self.session.close()
