"""One run per scope at a time: a blob lease on the storage container the job writes its reports to.

A blob lease is atomic in the service (a second acquire is 409 ``LeaseAlreadyPresent``) and runs
out on its own when a crashed holder stops renewing it (15-60 s; "Lease Blob",
https://learn.microsoft.com/rest/api/storageservices/lease-blob). ARM offers no generally available
compare-and-swap on a tag, and a marker resource without ETag support races.

The blob is named from a hash of the run's scope (tenant, subscriptions, management group), so runs
against other scopes never wait for each other. Its metadata names the holder, for the one line a
refused run prints (the service never reveals another client's lease id).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

import jwt
from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient

from ..errors import RemediatorError
from ..runcontrol import RunControl
from .session import ArmSession

logger = logging.getLogger(__name__)

# azure-storage-blob's own default audience for a token credential (Microsoft Entra authorization
# of blob data requests: "https://storage.azure.com/.default").
STORAGE_SCOPE = "https://storage.azure.com/.default"
# How often a refused acquire is tried again while the run waits for the holder.
ACQUIRE_POLL_SECONDS = 2.0


class LeaseHeld(RemediatorError):
    """Another run holds the lease of this scope, and waiting for it ran out."""


def lease_blob_name(tenant_id: str, subscriptions: Sequence[str], management_group: str | None, shard: str = "") -> str:
    """The blob of one scope: the same tenant, subscriptions (any order, any case), group and shard
    ("INDEX/COUNT" of a sharded run, whose replicas run side by side by design), the same blob."""
    scope = {
        "tenant": tenant_id.lower(),
        "subscriptions": sorted(s.lower() for s in subscriptions),
        "management_group": (management_group or "").lower(),
    }
    if shard:
        scope["shard"] = shard
    digest = hashlib.sha256(json.dumps(scope, sort_keys=True).encode()).hexdigest()
    return f"aum-remediator-lease-{digest[:32]}"


def scope_label(tenant_id: str, subscriptions: Sequence[str], management_group: str | None, shard: str = "") -> str:
    parts = [f"tenant {tenant_id}"]
    if shard:
        parts.append(f"shard {shard}")
    if management_group:
        parts.append(f"management group {management_group}")
    if subscriptions:
        parts.append(f"subscriptions {','.join(sorted(s.lower() for s in subscriptions))}")
    return ", ".join(parts) if len(parts) > 1 else f"{parts[0]} (every subscription)"


def token_tenant(session: ArmSession) -> str:
    """The tenant the credential signs in to: the ``tid`` claim of its storage token.

    The token is the credential's own; only its claims are read (the service verifies it).
    """
    token = session.credential.get_token(STORAGE_SCOPE).token
    claims = jwt.decode(token, options={"verify_signature": False})
    return str(claims.get("tid", ""))


class RunLease:
    """Acquire (waiting up to ``wait_seconds``), renew every third of the duration, release."""

    def __init__(
        self, blob: BlobClient, label: str, duration_seconds: int, wait_seconds: float, control: RunControl
    ) -> None:
        self.blob = blob
        self.label = label
        self.duration = duration_seconds
        self.wait = wait_seconds
        self.control = control
        self.lease = BlobLeaseClient(blob)
        self.renewals = 0
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> None:
        self._ensure_blob()
        started = time.monotonic()
        while True:
            try:
                self.lease.acquire(lease_duration=self.duration)
                break
            except HttpResponseError as exc:
                if _code(exc) != "LeaseAlreadyPresent":
                    raise self._error("acquire", exc) from None
            except AzureError as exc:  # no answer at all (connection, TLS)
                raise self._error("acquire", exc) from None
            waited = time.monotonic() - started
            if waited >= self.wait:
                raise LeaseHeld(self._held_message(waited))
            self.control.sleep(min(ACQUIRE_POLL_SECONDS, self.wait - waited), "waiting for the run lease")
        holder = {
            "scope": self.label,
            "holder": f"{socket.gethostname()}:{os.getpid()}",
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.blob.set_blob_metadata(holder, lease=self.lease)
        self._renewer = threading.Thread(target=self._renew_until_stopped, name="run-lease-renewal", daemon=True)
        self._renewer.start()

    @property
    def held(self) -> bool:
        return self._renewer is not None

    def release(self) -> None:
        if self._renewer is None:
            return
        self._stop.set()
        self._renewer.join()
        try:
            self.lease.release()
        except AzureError as exc:  # it runs out by itself within the duration
            logger.warning(
                "run lease %s not released (%s); it expires within %ss",
                self.blob.blob_name,
                _code(exc) or type(exc).__name__,
                self.duration,
            )

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.duration / 3):
            try:
                self.lease.renew()
                self.renewals += 1
            except AzureError as exc:  # an answer refusing it, or none at all (the next try may get through)
                # Lost (broken by an operator, or expired while the machine slept): another run may
                # start now. Say so loudly; the writes already under way are idempotent.
                logger.warning(
                    "run lease %s could not be renewed: %s", self.blob.blob_name, _code(exc) or type(exc).__name__
                )

    def _ensure_blob(self) -> None:
        try:
            self.blob.upload_blob(b"", overwrite=False)
        except ResourceExistsError:
            return  # BlobAlreadyExists: an earlier run made it
        except ResourceNotFoundError:
            raise  # ContainerNotFound: the first run against this container; the caller creates it
        except HttpResponseError as exc:
            raise self._error("create", exc) from None

    def _held_message(self, waited: float) -> str:
        try:
            meta = self.blob.get_blob_properties().metadata
        except HttpResponseError:
            meta = {}
        holder = f" by {meta['holder']} since {meta['since']}" if "holder" in meta and "since" in meta else ""
        return (
            f"another run holds the lease for {meta.get('scope') or self.label} (blob {self.blob.url}{holder}); "
            f"waited {waited:.0f}s (lease.wait_seconds {self.wait:g})"
        )

    def _error(self, what: str, exc: AzureError) -> RemediatorError:
        status = getattr(exc, "status_code", None)
        why = _code(exc) or (str(status) if status else type(exc).__name__)
        return RemediatorError(f"run lease {self.blob.url}: {what} failed: {why}: {str(exc.message).splitlines()[0]}")


@contextmanager
def run_lease(
    session: ArmSession,
    container_url: str,
    scope: tuple[Sequence[str], str | None, str],
    duration_seconds: int,
    wait_seconds: float,
    control: RunControl,
) -> Iterator[RunLease]:
    """Hold the scope's lease for the ``with`` block; released on the way out, errors and signals included."""
    tenant = token_tenant(session)
    subscriptions, group, shard = scope
    container = ContainerClient.from_container_url(
        container_url.rstrip("/"), credential=session.credential, connection_verify=session.target.connection_verify
    )
    blob = container.get_blob_client(lease_blob_name(tenant, subscriptions, group, shard))
    lease = RunLease(blob, scope_label(tenant, subscriptions, group, shard), duration_seconds, wait_seconds, control)
    try:
        try:
            lease.acquire()
        except ResourceNotFoundError:
            _create_container(container)
            lease.acquire()
        yield lease
    finally:
        lease.release()
        container.close()


def _create_container(container: ContainerClient) -> None:
    with suppress(ResourceExistsError):  # another run created it first
        container.create_container()


def _code(exc: AzureError) -> str:
    """The storage error code (x-ms-error-code); azure-storage-blob sets it on the exception it raises."""
    # A StorageErrorCode (a str enum) for most errors, the header's text for those the generated
    # layer maps first (404, 409): the value either way.
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")
