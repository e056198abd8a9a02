"""THE one place retries are decided (DESIGN.md 4).

Two layers, each owning distinct conditions, so no condition is retried twice:

* HTTP transients — 408, 429, 5xx, connection errors — belong to azure-core's ``RetryPolicy``,
  which honours ``Retry-After``. `http_retry_policy` configures it from `ApplySettings` (one
  budget, ``http_retry_total``, for every kind of retry), and `DeadlineRetryPolicy` adds what the
  SDK's lacks: a 429 is retried on every method (ARM refuses a throttled request before it
  reaches the resource provider, so repeating a PATCH or POST is safe), and every sleep is
  bounded by the run's deadline and wakes on SIGINT/SIGTERM. The client factory puts it in
  every client's pipeline (see `pipeline_policies`). Nothing here retries those again.
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
from urllib.parse import parse_qsl, urlsplit

from azure.core.credentials import TokenCredential
from azure.core.pipeline import policies
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from ..errors import ArmOperationError, AzureAccessError
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
        stop=stop_after_delay(min(timeout, settings.control.remaining())),
        wait=wait_fixed(interval),
        sleep=_bounded_sleep(settings, rule_set[0].name),
        reraise=True,
    )
    return retrying(fn, *args, **kwargs)


def _bounded_sleep(settings: ApplySettings, what: str) -> Callable[[float], None]:
    """tenacity's sleep, through the run's control: a stop wakes it, the deadline caps it."""

    def sleep(seconds: float) -> None:
        settings.control.sleep(min(seconds, settings.control.remaining()), what)

    return sleep


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
        in_window = granted is not None and time.monotonic() - granted < rule.timeout(settings)
        return in_window and settings.control.remaining() > 0

    retrying = Retrying(
        retry=retry_if_exception(propagating),
        wait=wait_fixed(rule.interval(settings)),
        sleep=_bounded_sleep(settings, rule.name),
        reraise=True,
    )
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
    sleep = _bounded_sleep(settings, rule.name)
    if first_wait:
        sleep(interval)
    retrying = Retrying(
        retry=retry_if_result(lambda value: not done(value)),
        stop=stop_after_delay(min(rule.timeout(settings), settings.control.remaining())),
        wait=wait_fixed(interval),
        sleep=sleep,
    )
    try:
        return retrying(read)
    except RetryError as exc:
        raise PollTimeout(rule, exc.last_attempt.result()) from None


class DeadlineRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """azure-core's RetryPolicy, with 429 retried on every method and sleeps bounded by the run.

    ARM answers a throttled request with 429 and ``Retry-After`` before the request reaches the
    resource provider ("If you send a request before the retry value has elapsed, your request
    isn't processed", learn.microsoft.com/azure/azure-resource-manager/management/
    request-limits-and-throttling), so a PATCH or POST that got 429 did nothing and can be sent
    again; azure-core retries POST/PATCH only on 500/503/504 when no ``Retry-After`` is given.
    """

    def __init__(self, settings: ApplySettings) -> None:
        total = settings.http_retry_total
        # retry_status, retry_connect and retry_read default to 3 in azure-core: one budget for all.
        super().__init__(
            retry_total=total,
            retry_status=total,
            retry_connect=total,
            retry_read=total,
            retry_backoff_factor=settings.http_retry_backoff_factor,
            retry_backoff_max=settings.http_retry_backoff_max,
        )
        self.control = settings.control

    def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
        """One request and its retries end by the run's deadline too (azure-core's absolute timeout)."""
        settings: dict[str, Any] = super().configure_retries(options)
        settings["timeout"] = min(settings["timeout"], max(self.control.remaining(), 0.001))
        return settings

    def _is_method_retryable(self, settings: Any, request: Any, response: Any = None) -> bool:
        if response is not None and response.status_code == 429:
            return True
        return bool(super()._is_method_retryable(settings, request, response=response))

    def _sleep_for_retry(self, response: Any, transport: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if not retry_after:
            return False
        request = response.http_request
        self.control.sleep(retry_after, f"{request.method} {request.url.split('?')[0]}: Retry-After")
        return True

    def _sleep_backoff(self, settings: Any, transport: Any) -> None:
        backoff = self.get_backoff_time(settings)
        if backoff > 0:
            self.control.sleep(min(backoff, self.control.remaining()), "retry backoff")


class PageBoundPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Ends a listing whose ``nextLink`` never runs out (a broken or hostile endpoint) with a clear error.

    ARM pages carry a ``$skiptoken`` in their ``nextLink``; the SDK's pagers follow it for as long
    as there is one. Consecutive ``$skiptoken`` requests to one path on one thread count as one
    listing; past ``max_pages`` the listing stops.
    """

    def __init__(self, max_pages: int) -> None:
        self.max_pages = max_pages
        self._pages = threading.local()

    def on_request(self, request: Any) -> None:
        url = urlsplit(request.http_request.url)
        token = any(k.lower() == "$skiptoken" for k, _ in parse_qsl(url.query))
        counts: dict[str, int] = getattr(self._pages, "counts", None) or {}
        self._pages.counts = counts
        key = url.path.lower()
        counts[key] = counts.get(key, 0) + 1 if token else 0
        if counts[key] > self.max_pages:
            counts[key] = 0
            raise AzureAccessError(f"{url.path}: still paging after {self.max_pages} pages (nextLink never ends)")


def http_retry_policy(settings: ApplySettings) -> RetryPolicy[Any, Any]:
    """408/429/500/502/503/504 and connection errors, ``http_retry_total`` times, Retry-After honoured."""
    return DeadlineRetryPolicy(settings)


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
        PageBoundPolicy(settings.max_pages),
        http_retry_policy(settings),
        ARMChallengeAuthenticationPolicy(credential, credential_scope),
        policies.CustomHookPolicy(),
        policies.NetworkTraceLoggingPolicy(),
        policies.DistributedTracingPolicy(),
        policies.SensitiveHeaderCleanupPolicy(),
        ARMHttpLoggingPolicy(),
    ]
