"""Timeouts, poll intervals and retry budgets of the Azure layer, as one frozen value.

The CLI/config layer builds an `ApplySettings` from the settings file, environment and flags;
everything below it reads these numbers and nothing else. Tests pass short intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..runcontrol import RunControl


@dataclass(frozen=True)
class ApplySettings:
    # Provider registration (register-provider, and waiting out a provider already Registering).
    provider_registration_timeout: float = 600.0
    provider_poll_interval: float = 5.0
    # Long-running ARM operations (PUT/PATCH/DELETE with Azure-AsyncOperation or Location).
    operation_timeout: float = 900.0
    lro_poll_interval: float = 5.0
    # Policy remediations run for minutes; waiting for them is bounded separately.
    remediation_timeout: float = 1800.0
    remediation_poll_interval: float = 15.0
    # Role assignments take minutes to take effect in ARM: work that fails AuthorizationFailed for
    # a principal this run granted a role to (remediation tasks after policy-identity-roles) is
    # retried, every role_propagation_poll_interval, until this long after the grant.
    role_propagation_seconds: float = 180.0
    role_propagation_poll_interval: float = 30.0
    # A new managed identity takes a while to replicate to Entra ID (PrincipalNotFound).
    principal_propagation_timeout: float = 300.0
    principal_poll_interval: float = 10.0
    # Another operation holds the resource (AnotherOperationInProgress, Conflict).
    conflict_timeout: float = 300.0
    conflict_poll_interval: float = 15.0
    # azure-core's RetryPolicy: 408/429/5xx and connection errors, honouring Retry-After.
    http_retry_total: int = 10
    http_retry_backoff_factor: float = 0.8
    http_retry_backoff_max: float = 60.0
    http_timeout: float = 120.0
    # Bulk reads: threads for per-subscription reads; Resource Graph rows a page.
    read_concurrency: int = 8
    resource_graph_page_size: int = 1000
    # Upper bound on one wait for an exhausted Resource Graph quota.
    resource_graph_quota_max_wait: float = 60.0
    # Pages one listing may take before the bot gives up (a nextLink/$skipToken that never ends).
    max_pages: int = 10000
    # The run's deadline and stop request: every wait of the Azure layer sleeps through it.
    control: RunControl = field(default_factory=RunControl, compare=False)
