"""How the Blob service answers: empty bodies, the state in ``ETag``/``Last-Modified``/``x-ms-*`` headers,
errors named by ``x-ms-error-code`` (the header azure-storage-blob reads the code from first)."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import format_datetime

from remediator.emulator.blob.models import INFINITE, Blob, BlobError, BlobStore
from remediator.emulator.routing import Response

# The service version this emulation follows (any client version is accepted, as Azurite does).
SERVICE_VERSION = "2025-11-05"


def blob_error(error: BlobError) -> Response:
    # The service also sends an XML <Error> body; the SDK takes the code from this header.
    return Response(error.status, None, {"x-ms-error-code": error.code, "x-ms-version": SERVICE_VERSION})


def written(status: int, blob: Blob, extra: Mapping[str, str] | None = None) -> Response:
    headers = {
        "ETag": blob.etag,
        "Last-Modified": format_datetime(blob.last_modified, usegmt=True),
        "x-ms-version": SERVICE_VERSION,
        **(extra or {}),
    }
    return Response(status, None, headers)


def blob_properties(store: BlobStore, blob: Blob) -> Response:
    """Get Blob Properties: metadata as x-ms-meta-*, and the lease's state, status and duration."""
    state = store.lease_state(blob)
    headers = {
        "x-ms-blob-type": "BlockBlob",
        "x-ms-lease-state": state,
        "x-ms-lease-status": "locked" if state in ("leased", "breaking") else "unlocked",
        **{f"x-ms-meta-{key}": value for key, value in blob.metadata.items()},
    }
    if state == "leased" and blob.lease is not None:
        headers["x-ms-lease-duration"] = "infinite" if blob.lease.duration == INFINITE else "fixed"
    return written(200, blob, headers)
