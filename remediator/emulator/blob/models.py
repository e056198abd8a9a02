"""Containers, blobs and the blob lease state machine, as the Blob service keeps them.

Lease rules from "Lease Blob" (https://learn.microsoft.com/rest/api/storageservices/lease-blob):
a lease lasts 15 to 60 seconds or is infinite (-1); acquire on a blob leased under another id is
409 LeaseAlreadyPresent; renew, change and release need the lease id (409
LeaseIdMismatchWithLeaseOperation otherwise, LeaseNotPresentWithLeaseOperation on an unleased
blob); an expired lease may be acquired by anyone and renewed by its holder; break ends a lease
after a break period (0-60 s, default the time the lease has left), during which it cannot be
acquired (LeaseAlreadyPresent) or renewed (LeaseIsBrokenAndCannotBeRenewed).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

INFINITE = -1


class BlobError(Exception):
    """A Blob service error: status, the x-ms-error-code and its message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Lease:
    lease_id: str
    duration: int  # seconds, or INFINITE
    expires_at: float  # on the store's clock; inf for an infinite lease
    broken_at: float | None = None  # set by break: the lease is "breaking" until then, "broken" after


@dataclass
class Blob:
    etag: str = field(default_factory=lambda: f'"0x{uuid.uuid4().hex[:15].upper()}"')
    last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    metadata: dict[str, str] = field(default_factory=dict)
    lease: Lease | None = None

    def touch(self) -> None:
        self.etag = f'"0x{uuid.uuid4().hex[:15].upper()}"'
        self.last_modified = datetime.now(UTC)


class BlobStore:
    """All containers of the emulated account. ``clock`` is monotonic seconds; tests ``advance`` it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._offset = 0.0
        self.containers: dict[str, dict[str, Blob]] = {}

    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the lease clock forward (a test stands for a crashed holder's lease running out)."""
        self._offset += seconds

    # --- containers and blobs --------------------------------------------------------------------

    def create_container(self, name: str) -> None:
        if name in self.containers:
            raise BlobError(409, "ContainerAlreadyExists", "The specified container already exists.")
        self.containers[name] = {}

    def container(self, name: str) -> dict[str, Blob]:
        found = self.containers.get(name)
        if found is None:
            raise BlobError(404, "ContainerNotFound", "The specified container does not exist.")
        return found

    def blob(self, container: str, name: str) -> Blob:
        found = self.container(container).get(name)
        if found is None:
            raise BlobError(404, "BlobNotFound", "The specified blob does not exist.")
        return found

    def put_blob(self, container: str, name: str, lease_id: str | None, if_none_match: str | None) -> Blob:
        blobs = self.container(container)
        existing = blobs.get(name)
        if existing is not None:
            if if_none_match == "*":
                raise BlobError(409, "BlobAlreadyExists", "The specified blob already exists.")
            self.check_write(existing, lease_id)
        blob = Blob(lease=existing.lease if existing else None)
        blobs[name] = blob
        return blob

    def set_metadata(self, container: str, name: str, metadata: dict[str, str], lease_id: str | None) -> Blob:
        blob = self.blob(container, name)
        self.check_write(blob, lease_id)
        blob.metadata = metadata
        blob.touch()
        return blob

    def check_write(self, blob: Blob, lease_id: str | None) -> None:
        """A write to a leased blob must carry its lease id (412), as the service enforces."""
        state = self.lease_state(blob)
        if state in ("leased", "breaking") and lease_id is None:
            raise BlobError(
                412, "LeaseIdMissing", "There is currently a lease on the blob and no lease ID was specified."
            )
        if lease_id is not None and (blob.lease is None or state in ("available", "broken", "expired")):
            raise BlobError(412, "LeaseNotPresentWithBlobOperation", "There is currently no lease on the blob.")
        if lease_id is not None and blob.lease is not None and blob.lease.lease_id != lease_id:
            raise BlobError(
                412,
                "LeaseIdMismatchWithBlobOperation",
                "The lease ID specified did not match the lease ID for the blob.",
            )

    # --- leases ---------------------------------------------------------------------------------

    def lease_state(self, blob: Blob) -> str:
        """available | leased | expired | breaking | broken (x-ms-lease-state)."""
        lease = blob.lease
        if lease is None:
            return "available"
        now = self.now()
        if lease.broken_at is not None:
            return "breaking" if now < lease.broken_at else "broken"
        return "leased" if now < lease.expires_at else "expired"

    def acquire(self, blob: Blob, duration: int, proposed_id: str | None) -> Lease:
        _check_duration(duration)
        state = self.lease_state(blob)
        lease_id = proposed_id or str(uuid.uuid4())
        if state == "breaking" or (state == "leased" and blob.lease is not None and blob.lease.lease_id != lease_id):
            raise BlobError(409, "LeaseAlreadyPresent", "There is already a lease present.")
        blob.lease = Lease(lease_id, duration, self._expiry(duration))
        return blob.lease

    def renew(self, blob: Blob, lease_id: str) -> Lease:
        lease = self._held(blob, lease_id)
        if lease.broken_at is not None:
            raise BlobError(
                409,
                "LeaseIsBrokenAndCannotBeRenewed",
                "The lease ID matched, but the lease has been broken explicitly.",
            )
        lease.expires_at = self._expiry(lease.duration)
        return lease

    def release(self, blob: Blob, lease_id: str) -> None:
        self._held(blob, lease_id)
        blob.lease = None

    def break_lease(self, blob: Blob, period: int | None) -> int:
        """Start the break; the seconds until a new lease may be acquired (x-ms-lease-time)."""
        state = self.lease_state(blob)
        lease = blob.lease
        if lease is None or state == "available":
            raise BlobError(409, "LeaseNotPresentWithLeaseOperation", "There is currently no lease on the blob.")
        if period is not None and not 0 <= period <= 60:
            raise BlobError(400, "InvalidHeaderValue", "The value for x-ms-lease-break-period is not valid.")
        now = self.now()
        if state in ("expired", "broken"):
            lease.broken_at = now if lease.broken_at is None else lease.broken_at
            return 0
        left = lease.expires_at - now if lease.duration != INFINITE else 0.0
        wait = float(period) if period is not None else left
        # A break never lengthens a lease: the earlier of the break period and the lease's end.
        breaks_at = now + min(wait, left) if lease.duration != INFINITE else now + wait
        if lease.broken_at is None or breaks_at < lease.broken_at:
            lease.broken_at = breaks_at
        return max(0, round(lease.broken_at - now))

    def _held(self, blob: Blob, lease_id: str) -> Lease:
        lease = blob.lease
        if lease is None:
            raise BlobError(409, "LeaseNotPresentWithLeaseOperation", "There is currently no lease on the blob.")
        if lease.lease_id != lease_id:
            raise BlobError(
                409,
                "LeaseIdMismatchWithLeaseOperation",
                "The lease ID specified did not match the lease ID for the blob.",
            )
        return lease

    def _expiry(self, duration: int) -> float:
        return float("inf") if duration == INFINITE else self.now() + duration


def _check_duration(duration: int) -> None:
    if duration != INFINITE and not 15 <= duration <= 60:
        raise BlobError(
            400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format."
        )
