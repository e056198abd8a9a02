"""The emulator's blob endpoints through the unmodified azure-storage-blob client: Azure's status codes,
x-ms-error-code values and lease headers ("Lease Blob", learn.microsoft.com/rest/api/storageservices/lease-blob)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient

from remediator.azure.lease import RunLease
from remediator.azure.session import endpoint_credential
from remediator.emulator import Emulator
from remediator.emulator.blob.routes import ACCOUNT, blob_store
from remediator.runcontrol import RunControl
from tests.e2e.test_arc_compute_provider import estate


@pytest.fixture
def world() -> Iterator[tuple[Emulator, ContainerClient]]:
    emulator = Emulator.load(estate())
    with emulator.serve() as ep:
        container = ContainerClient.from_container_url(
            f"{ep.url}/{ACCOUNT}/runs", credential=endpoint_credential(ep), connection_verify=ep.ca_path
        )
        yield emulator, container
        container.close()


def _code(exc: pytest.ExceptionInfo[HttpResponseError]) -> tuple[int | None, str]:
    code = getattr(exc.value, "error_code", "")
    return exc.value.status_code, str(getattr(code, "value", code))


def _blob(container: ContainerClient) -> BlobClient:
    container.create_container()
    blob = container.get_blob_client("lease-blob")
    blob.upload_blob(b"", overwrite=False)
    return blob


def test_containers_and_blobs(world: tuple[Emulator, ContainerClient]) -> None:
    _, container = world
    blob = container.get_blob_client("x")
    with pytest.raises(ResourceNotFoundError) as missing:
        blob.upload_blob(b"")
    assert _code(missing) == (404, "ContainerNotFound")
    container.create_container(metadata=None)
    with pytest.raises(ResourceExistsError) as twice:
        container.create_container()
    assert _code(twice) == (409, "ContainerAlreadyExists")
    assert container.get_container_properties() is not None
    blob.upload_blob(b"", overwrite=False)
    with pytest.raises(ResourceExistsError) as again:
        blob.upload_blob(b"", overwrite=False)
    assert _code(again) == (409, "BlobAlreadyExists")
    with pytest.raises(ResourceNotFoundError) as gone:
        container.get_blob_client("nope").get_blob_properties()
    assert gone.value.status_code == 404


def test_acquire_is_exclusive_and_renew_release_need_the_lease_id(world: tuple[Emulator, ContainerClient]) -> None:
    _, container = world
    blob = _blob(container)
    first, second = BlobLeaseClient(blob), BlobLeaseClient(blob)
    first.acquire(lease_duration=15)
    assert first.etag and first.last_modified
    props = blob.get_blob_properties()
    assert (props.lease.state, props.lease.status, props.lease.duration) == ("leased", "locked", "fixed")
    with pytest.raises(HttpResponseError) as taken:
        second.acquire(lease_duration=15)
    assert _code(taken) == (409, "LeaseAlreadyPresent")
    first.acquire(lease_duration=30)  # the holder may acquire again under its own id
    for op in (second.renew, second.release):
        with pytest.raises(HttpResponseError) as mismatch:
            op()
        assert _code(mismatch) == (409, "LeaseIdMismatchWithLeaseOperation")
    with pytest.raises(HttpResponseError) as unleased_write:
        blob.set_blob_metadata({"k": "v"})
    assert _code(unleased_write) == (412, "LeaseIdMissing")
    blob.set_blob_metadata({"holder": "me"}, lease=first)
    assert blob.get_blob_properties().metadata == {"holder": "me"}
    first.renew()
    released_id = first.id
    first.release()
    assert blob.get_blob_properties().lease.state == "available"
    with pytest.raises(HttpResponseError) as released:
        BlobLeaseClient(blob, lease_id=released_id).renew()
    assert _code(released) == (409, "LeaseNotPresentWithLeaseOperation")
    second.acquire(lease_duration=-1)
    assert blob.get_blob_properties().lease.duration == "infinite"


def test_a_lease_runs_out_unless_renewed(world: tuple[Emulator, ContainerClient]) -> None:
    emulator, container = world
    blob = _blob(container)
    holder, other = BlobLeaseClient(blob), BlobLeaseClient(blob)
    holder.acquire(lease_duration=15)
    with emulator.state.lock:
        blob_store(emulator.state).advance(16)
    assert blob.get_blob_properties().lease.state == "expired"
    holder.renew()  # the holder of an expired lease may still renew it
    assert blob.get_blob_properties().lease.state == "leased"
    with emulator.state.lock:
        blob_store(emulator.state).advance(16)
    other.acquire(lease_duration=15)  # anyone may take an expired lease
    with pytest.raises(HttpResponseError) as lost:
        holder.renew()
    assert _code(lost) == (409, "LeaseIdMismatchWithLeaseOperation")


def test_break_and_bad_durations(world: tuple[Emulator, ContainerClient]) -> None:
    emulator, container = world
    blob = _blob(container)
    holder, other = BlobLeaseClient(blob), BlobLeaseClient(blob)
    for bad in (10, 61):
        with pytest.raises(HttpResponseError) as invalid:
            holder.acquire(lease_duration=bad)
        assert _code(invalid) == (400, "InvalidHeaderValue")
    holder.acquire(lease_duration=60)
    assert other.break_lease(lease_break_period=10) == 10
    assert blob.get_blob_properties().lease.state == "breaking"
    with pytest.raises(HttpResponseError) as breaking:
        other.acquire(lease_duration=15)
    assert _code(breaking) == (409, "LeaseAlreadyPresent")
    with pytest.raises(HttpResponseError) as no_renew:
        holder.renew()
    assert _code(no_renew) == (409, "LeaseIsBrokenAndCannotBeRenewed")
    with emulator.state.lock:
        blob_store(emulator.state).advance(11)
    assert blob.get_blob_properties().lease.state == "broken"
    other.acquire(lease_duration=15)
    with pytest.raises(HttpResponseError) as nothing:
        BlobLeaseClient(container.get_blob_client("unleased")).break_lease()
    assert nothing.value.status_code == 404


def test_the_run_lease_is_renewed_while_it_is_held(world: tuple[Emulator, ContainerClient]) -> None:
    emulator, container = world
    container.create_container()
    blob = container.get_blob_client("renewed")
    holder = RunLease(blob, "a scope", 15, 0, RunControl())
    holder.acquire()
    try:
        deadline = time.monotonic() + 60
        while holder.renewals < 1:  # renewed every third of its 15 s
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with emulator.state.lock:
            blob_store(emulator.state).advance(12)  # past the first 15 s, within the renewed ones
        assert blob.get_blob_properties().lease.state == "leased"
        assert blob.get_blob_properties().metadata["scope"] == "a scope"
    finally:
        holder.release()
    assert blob.get_blob_properties().lease.state == "available"
