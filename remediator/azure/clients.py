"""A lazy, cached, thread-safe factory of the real Azure SDK clients, one per subscription.

Every client gets the session's endpoint (``base_url``), token scope (``credential_scopes``),
CA bundle (``connection_verify``) and the pipeline from `remediator.azure.retry.pipeline_policies`
(our RetryPolicy, no unbounded provider auto-registration). A client is built the first time it
is asked for, so a run touching one subscription builds one client of each kind it uses.

API versions are pinned where the SDK's default is not one the REST specs (our yardstick) have.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.maintenance import MaintenanceManagementClient
from azure.mgmt.managementgroups import ManagementGroupsMgmtClient
from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.resource.policy import PolicyClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .retry import pipeline_policies
from .session import ArmSession
from .settings import ApplySettings

USER_AGENT = "aum-remediator/0.1.0"
# azure-mgmt-resource-policy 1.0 defaults to 2026-06-01, which the REST specs do not hold.
POLICY_API_VERSION = "2025-03-01"
# The multi-API authorization client's role assignments/definitions at the specs' stable version.
AUTHORIZATION_API_VERSION = "2022-04-01"

C = TypeVar("C")


class ArmClients:
    """The SDK clients for one `ArmSession`, plus the `ApplySettings` actions wait by."""

    def __init__(self, session: ArmSession, settings: ApplySettings | None = None) -> None:
        self.session = session
        self.settings = settings or ApplySettings()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._http: requests.Session | None = None
        # Compliance scans requested through these clients (lowercase scope -> what came of it):
        # one on-demand scan per scope per run (policy_actions).
        self.compliance_scans: dict[str, str] = {}
        self.scan_lock = threading.Lock()

    def _http_session(self) -> requests.Session:
        """One connection pool for every client: hundreds of subscriptions, not hundreds of TLS handshakes."""
        if self._http is None:
            http = requests.Session()
            # Same as azure-core's own session: urllib3 never retries (RetryPolicy does), and the
            # pool is big enough for the inventory's thread pool.
            adapter = HTTPAdapter(
                max_retries=Retry(total=False, redirect=False, raise_on_status=False),
                pool_maxsize=max(10, 2 * self.settings.read_concurrency),
            )
            http.mount("https://", adapter)
            self._http = http
        return self._http

    def _common(self) -> dict[str, Any]:
        target = self.session.target
        credential = self.session.credential
        # A transport per client over the shared session; closing a client leaves the session open.
        transport = RequestsTransport(
            session=self._http_session(),
            session_owner=False,
            connection_verify=target.connection_verify,
            connection_timeout=self.settings.http_timeout,
            read_timeout=self.settings.http_timeout,
        )
        return {
            "credential": credential,
            "base_url": target.endpoint,
            "credential_scopes": [target.credential_scope],
            "transport": transport,
            "policies": pipeline_policies(credential, target.credential_scope, self.settings, USER_AGENT),
            "polling_interval": self.settings.lro_poll_interval,
        }

    def _get(self, kind: str, key: str, build: Callable[[dict[str, Any]], C]) -> C:
        cache_key = (kind, key.lower())
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                client = build(self._common())
                self._clients[cache_key] = client
            return client

    # Per-subscription clients.
    def resources(self, subscription_id: str) -> ResourceManagementClient:
        return self._get(
            "resources",
            subscription_id,
            lambda kw: ResourceManagementClient(subscription_id=subscription_id, **kw),
        )

    def policy(self, subscription_id: str) -> PolicyClient:
        return self._get(
            "policy",
            subscription_id,
            lambda kw: PolicyClient(subscription_id=subscription_id, api_version=POLICY_API_VERSION, **kw),
        )

    def policy_insights(self, subscription_id: str) -> PolicyInsightsClient:
        return self._get(
            "policy_insights",
            subscription_id,
            lambda kw: PolicyInsightsClient(subscription_id=subscription_id, **kw),
        )

    def maintenance(self, subscription_id: str) -> MaintenanceManagementClient:
        return self._get(
            "maintenance",
            subscription_id,
            lambda kw: MaintenanceManagementClient(subscription_id=subscription_id, **kw),
        )

    def authorization(self, subscription_id: str) -> AuthorizationManagementClient:
        return self._get(
            "authorization",
            subscription_id,
            lambda kw: AuthorizationManagementClient(
                subscription_id=subscription_id, api_version=AUTHORIZATION_API_VERSION, **kw
            ),
        )

    # Tenant-level clients.
    def resource_graph(self) -> ResourceGraphClient:
        return self._get("resource_graph", "", lambda kw: ResourceGraphClient(**kw))

    def subscriptions(self) -> SubscriptionClient:
        return self._get("subscriptions", "", lambda kw: SubscriptionClient(**kw))

    def management_groups(self) -> ManagementGroupsMgmtClient:
        return self._get("management_groups", "", lambda kw: ManagementGroupsMgmtClient(**kw))

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
            http, self._http = self._http, None
        for client in clients:
            client.close()
        if http is not None:
            http.close()
