"""THE one place retries are decided (DESIGN.md 4).

Two layers, each owning distinct conditions, so no condition is retried twice:

* HTTP transients — 408, 429, 5xx, connection errors — belong to azure-core's ``RetryPolicy``,
  which honours ``Retry-After``. `http_retry_policy` configures it from `ApplySettings`; the
  client factory puts it in every client's pipeline (see `pipeline_policies`). Nothing here
  retries those again.
* ARM conditions the SDK does not retry are declared below as `RetryRule` data and applied
  with tenacity: a principal not yet replicated after identity creation, another operation in
  progress, a provider still Registering, a remediation still running.

``ARMAutoResourceProviderRegistrationPolicy`` (which every generated client inserts, and which
polls *forever* after registering a provider on a 409 ``MissingSubscriptionRegistration``) is
left out of the pipelines built by `pipeline_policies`: the 409 surfaces as an
`ArmOperationError` with code ``MissingSubscriptionRegistration``, and registering a provider
is a planned, bounded ``register-provider`` change instead of a side effect of another call.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from azure.core.credentials import TokenCredential
from azure.core.pipeline import policies
from azure.core.pipeline.policies import RetryPolicy
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from ..errors import ArmOperationError
from .settings import ApplySettings

T = TypeVar("T")


@dataclass(frozen=True)
class RetryRule:
    """Retry an ARM call while it fails with one of ``codes``, bounded by two `ApplySettings` fields."""

    name: str
    codes: frozenset[str]
    timeout_field: str
    interval_field: str
    # Codes too generic to retry on their own: (code, phrase ARM's message must hold, lowercase).
    codes_with_phrase: tuple[tuple[str, str], ...] = ()

    def timeout(self, settings: ApplySettings) -> float:
        return float(getattr(settings, self.timeout_field))

    def interval(self, settings: ApplySettings) -> float:
        return float(getattr(settings, self.interval_field))

    def matches(self, exc: BaseException) -> bool:
        if not isinstance(exc, ArmOperationError):
            return False
        return exc.code in self.codes or any(
            exc.code == code and phrase in exc.detail.lower() for code, phrase in self.codes_with_phrase
        )


@dataclass(frozen=True)
class PollRule:
    """Poll a read until a condition holds, bounded by two `ApplySettings` fields."""

    name: str
    timeout_field: str
    interval_field: str

    def timeout(self, settings: ApplySettings) -> float:
        return float(getattr(settings, self.timeout_field))

    def interval(self, settings: ApplySettings) -> float:
        return float(getattr(settings, self.interval_field))


# A managed identity created moments ago is not yet visible to role assignment creation.
PRINCIPAL_NOT_FOUND = RetryRule(
    "principal-not-found",
    frozenset({"PrincipalNotFound"}),
    "principal_propagation_timeout",
    "principal_poll_interval",
)
# Another PUT/PATCH/DELETE holds the resource; ARM answers 409 and expects the caller to wait.
# Compute serializes writes to one VM the same way: ConflictingConcurrentWriteNotAllowed ("...a
# conflicting concurrent write on the same entity. Please retry later.") or Conflict ("The request
# failed due to conflict with a concurrent request..."); "Conflict" alone also names lasting
# conflicts, so only that concurrency message is waited out.
OPERATION_IN_PROGRESS = RetryRule(
    "operation-in-progress",
    frozenset({"AnotherOperationInProgress", "ConflictingConcurrentWriteNotAllowed"}),
    "conflict_timeout",
    "conflict_poll_interval",
    codes_with_phrase=(("Conflict", "conflict with a concurrent request"),),
)
# A role assignment authorizes minutes after ARM accepts it ("up to 10 minutes",
# learn.microsoft.com/azure/role-based-access-control/troubleshooting); until then what needs it
# fails AuthorizationFailed, or LinkedAuthorizationFailed for a linked image or disk. Retried only
# by `call_while_roles_propagate`: for a principal granted in this run, within the window after
# that grant, never for a role nobody granted.
ROLE_PROPAGATION = RetryRule(
    "role-propagation",
    frozenset({"AuthorizationFailed", "LinkedAuthorizationFailed"}),
    "role_propagation_seconds",
    "role_propagation_poll_interval",
)
PROVIDER_REGISTERING = PollRule("provider-registering", "provider_registration_timeout", "provider_poll_interval")
REMEDIATION_RUNNING = PollRule("remediation-running", "remediation_timeout", "remediation_poll_interval")
OPERATION_RUNNING = PollRule("operation-running", "operation_timeout", "lro_poll_interval")

RETRY_RULES: tuple[RetryRule, ...] = (PRINCIPAL_NOT_FOUND, OPERATION_IN_PROGRESS)
POLL_RULES: tuple[PollRule, ...] = (PROVIDER_REGISTERING, REMEDIATION_RUNNING, OPERATION_RUNNING)


def call_with_retry(
    rules: RetryRule | tuple[RetryRule, ...],
    settings: ApplySettings,
    fn: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """Call ``fn`` (which raises `ArmOperationError`, e.g. inside `arm_errors()`), retrying per ``rules``.

    When the time runs out the last `ArmOperationError` is re-raised unchanged, so the outcome
    shows ARM's own code and message.
    """
    rule_set = rules if isinstance(rules, tuple) else (rules,)
    timeout = max(r.timeout(settings) for r in rule_set)
    interval = min(r.interval(settings) for r in rule_set)
    retrying = Retrying(
        retry=retry_if_exception(lambda exc: any(r.matches(exc) for r in rule_set)),
        stop=stop_after_delay(timeout),
        wait=wait_fixed(interval),
        reraise=True,
    )
    return retrying(fn, *args, **kwargs)


def retrying_on(
    rules: RetryRule | tuple[RetryRule, ...], settings: ApplySettings
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator form of `call_with_retry`."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return call_with_retry(rules, settings, fn, *args, **kwargs)

        return wrapper

    return decorate


class RoleGrants:
    """Principals this run granted a role to, and when (monotonic seconds); shared by threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._granted: dict[str, float] = {}

    def record(self, principal_id: str) -> None:
        with self._lock:
            self._granted[principal_id.lower()] = time.monotonic()

    def granted_to_one_named_in(self, message: str) -> float | None:
        """When this run last granted a role to a principal ARM's ``message`` names (None: to none).

        ARM names the client in an authorization failure ("The client '<id>' with object id '<id>'
        does not have authorization ..."), so the failure is tied to the grant by that id.
        """
        text = message.lower()
        with self._lock:
            times = [at for principal, at in self._granted.items() if principal in text]
        return max(times) if times else None


def call_while_roles_propagate(grants: RoleGrants, settings: ApplySettings, fn: Callable[[], T]) -> T:
    """Call ``fn``; while it fails with `ROLE_PROPAGATION`'s codes naming a principal this run
    granted a role to, and the grant is younger than ``role_propagation_seconds``, call it again.

    Anything else (a role nobody granted, a window run out) raises at once, unchanged: the
    wait happens only where a grant precedes the work that needs it.
    """
    rule = ROLE_PROPAGATION

    def propagating(exc: BaseException) -> bool:
        if not rule.matches(exc) or not isinstance(exc, ArmOperationError):
            return False
        granted = grants.granted_to_one_named_in(exc.detail)
        return granted is not None and time.monotonic() - granted < rule.timeout(settings)

    retrying = Retrying(retry=retry_if_exception(propagating), wait=wait_fixed(rule.interval(settings)), reraise=True)
    return retrying(fn)


class PollTimeout(Exception):
    """A bounded poll ran out of time; ``last`` is the last value read."""

    def __init__(self, rule: PollRule, last: object) -> None:
        super().__init__(f"{rule.name}: still not done")
        self.rule = rule
        self.last = last


def poll_until(
    rule: PollRule,
    settings: ApplySettings,
    read: Callable[[], T],
    done: Callable[[T], bool],
    *,
    first_wait: bool = False,
) -> T:
    """Call ``read`` until ``done(value)``; return that value, or raise `PollTimeout` with the last one.

    ``first_wait`` sleeps one interval before the first read (after a request that just started
    the operation, the first read is almost always "not yet").
    """
    interval = rule.interval(settings)
    if first_wait:
        time.sleep(interval)
    retrying = Retrying(
        retry=retry_if_result(lambda value: not done(value)),
        stop=stop_after_delay(rule.timeout(settings)),
        wait=wait_fixed(interval),
    )
    try:
        return retrying(read)
    except RetryError as exc:
        raise PollTimeout(rule, exc.last_attempt.result()) from None


def http_retry_policy(settings: ApplySettings) -> RetryPolicy[Any, Any]:
    """azure-core's RetryPolicy: 408/429/500/502/503/504 and connection errors, Retry-After honoured."""
    return RetryPolicy(
        retry_total=settings.http_retry_total,
        retry_backoff_factor=settings.http_retry_backoff_factor,
        retry_backoff_max=settings.http_retry_backoff_max,
    )


def pipeline_policies(
    credential: TokenCredential,
    credential_scope: str,
    settings: ApplySettings,
    user_agent: str,
) -> list[Any]:
    """The policy list every client gets: the SDK's defaults minus the unbounded registration policy.

    Same order as the generated clients build it (request id, headers, user agent, proxy,
    content decode, redirect, retry, auth, hooks, logging, tracing, header cleanup, http logging).
    """
    return [
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(base_user_agent=user_agent),
        policies.ProxyPolicy(),
        policies.ContentDecodePolicy(),
        policies.RedirectPolicy(),
        http_retry_policy(settings),
        ARMChallengeAuthenticationPolicy(credential, credential_scope),
        policies.CustomHookPolicy(),
        policies.NetworkTraceLoggingPolicy(),
        policies.DistributedTracingPolicy(),
        policies.SensitiveHeaderCleanupPolicy(),
        ARMHttpLoggingPolicy(),
    ]
