"""Blob endpoints (path-style, one account): Create Container, Get Container Properties, Put Blob,
Get Blob Properties, Set Blob Metadata and Lease Blob (acquire, renew, release, break).

Operations are told apart as the service does, by ``restype``/``comp`` in the query and
``x-ms-lease-action`` (https://learn.microsoft.com/rest/api/storageservices/blob-service-rest-api).
They carry ``x-ms-version`` instead of ``api-version``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from remediator.emulator.blob.models import BlobError, BlobStore
from remediator.emulator.blob.responses import SERVICE_VERSION, blob_error, blob_properties, written
from remediator.emulator.routing import ROUTE_NO_VERSION, Request, Response, Route, route
from remediator.emulator.state import EmulatorState

ROUTES: list[Route] = []

# Azurite's well-known account: path-style URLs name the account in the first segment
# (https://learn.microsoft.com/rest/api/storageservices/lease-blob, "Emulated storage service URI").
ACCOUNT = "devstoreaccount1"
CONTAINER = f"/{ACCOUNT}/{{container}}"
BLOB = f"/{ACCOUNT}/{{container}}/{{blob}}"


def blob_store(state: EmulatorState) -> BlobStore:
    store = state.extras.get("blob")
    if not isinstance(store, BlobStore):
        store = state.extras["blob"] = BlobStore()
    return store


def _header(request: Request, name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in request.headers.items() if key.lower() == wanted), None)


def _create_container(store: BlobStore, request: Request) -> Response:
    if request.query.get("restype") != "container":
        raise BlobError(400, "InvalidQueryParameterValue", "Value for one of the query parameters is not valid.")
    store.create_container(request.params["container"])
    return Response(201, None, {"x-ms-version": SERVICE_VERSION})


def _container_properties(store: BlobStore, request: Request) -> Response:
    store.container(request.params["container"])
    return Response(200, None, {"x-ms-version": SERVICE_VERSION, "x-ms-lease-state": "available"})


def _put(store: BlobStore, request: Request) -> Response:
    container, name = request.params["container"], request.params["blob"]
    lease_id = _header(request, "x-ms-lease-id")
    comp = request.query.get("comp")
    if comp == "lease":
        return _lease(store, request)
    if comp == "metadata":
        metadata = _metadata(request.headers)
        return written(200, store.set_metadata(container, name, metadata, lease_id))
    if comp is not None:
        raise BlobError(400, "InvalidQueryParameterValue", f"comp={comp} is not served by this emulator.")
    if _header(request, "x-ms-blob-type") != "BlockBlob":
        raise BlobError(400, "InvalidHeaderValue", "Only block blobs are served by this emulator.")
    blob = store.put_blob(container, name, lease_id, _header(request, "If-None-Match"))
    blob.metadata = _metadata(request.headers)
    return written(201, blob)


def _lease(store: BlobStore, request: Request) -> Response:
    blob = store.blob(request.params["container"], request.params["blob"])
    action = (_header(request, "x-ms-lease-action") or "").lower()
    lease_id = _header(request, "x-ms-lease-id")
    if action == "acquire":
        lease = store.acquire(
            blob, _int_header(request, "x-ms-lease-duration", -1), _header(request, "x-ms-proposed-lease-id")
        )
        return written(201, blob, {"x-ms-lease-id": lease.lease_id})
    if action == "break":
        period = _header(request, "x-ms-lease-break-period")
        left = store.break_lease(blob, int(period) if period is not None else None)
        return written(202, blob, {"x-ms-lease-time": str(left)})
    if action not in ("renew", "release"):
        raise BlobError(400, "InvalidHeaderValue", "The value for x-ms-lease-action is not valid.")
    if lease_id is None:
        raise BlobError(
            400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified."
        )
    if action == "renew":
        lease = store.renew(blob, lease_id)
        return written(200, blob, {"x-ms-lease-id": lease.lease_id})
    store.release(blob, lease_id)
    return written(200, blob)


def _properties(store: BlobStore, request: Request) -> Response:
    return blob_properties(store, store.blob(request.params["container"], request.params["blob"]))


def _int_header(request: Request, name: str, default: int) -> int:
    value = _header(request, name)
    try:
        return default if value is None else int(value)
    except ValueError:
        raise BlobError(400, "InvalidHeaderValue", f"The value for {name} is not valid.") from None


def _metadata(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        key.lower().removeprefix("x-ms-meta-"): value
        for key, value in headers.items()
        if key.lower().startswith("x-ms-meta-")
    }


def _served(operation: Callable[[BlobStore, Request], Response]) -> Callable[[EmulatorState, Request], Response]:
    """A route handler: the operation on this emulator's blob store, a BlobError as the service answers it."""

    def handler(state: EmulatorState, request: Request) -> Response:
        try:
            return operation(blob_store(state), request)
        except BlobError as error:
            return blob_error(error)

    handler.__name__ = f"blob{operation.__name__}"
    return handler


for _method, _pattern, _operation in (
    ("PUT", CONTAINER, _create_container),
    ("GET", CONTAINER, _container_properties),
    ("PUT", BLOB, _put),
    ("HEAD", BLOB, _properties),
):
    route(ROUTES, _method, _pattern, api_versions=ROUTE_NO_VERSION)(_served(_operation))
