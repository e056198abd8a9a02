"""One write at a time per VM, as Compute serializes them.

While a long-running operation on a VM is in flight (a PATCH, ``start``, ``assessPatches``, an
extension write), another write to the same VM is refused with 409 instead of queued. The code is
``Conflict`` with "The request failed due to conflict with a concurrent request..." (a VM write
racing another: Azure/azure-cli issue 15765); Compute also answers ``ConflictingConcurrentWriteNotAllowed``
("The operation was interrupted by a conflicting concurrent write on the same entity. Please retry
later.", cloudfoundry/bosh-azure-cpi-release issue 762). Clients are expected to retry. Only
under ``consistency: azure``; the VM is free again once its operation has an outcome.
"""

from __future__ import annotations

from remediator.emulator.routing import OPERATION_STATUS_PATH, ArmError, Response
from remediator.emulator.state import EmulatorState

_IN_FLIGHT = "compute.vm-operations"  # state.extras key: lowercase VM id -> operation id
CONFLICT_MESSAGE = (
    "The request failed due to conflict with a concurrent request. To resolve it, please refer to "
    "https://aka.ms/activitylog to get more details on the conflicting requests."
)
_STATUS_MARKER = OPERATION_STATUS_PATH.split("{", 1)[0].lower()


def refuse_concurrent_write(state: EmulatorState, vm_id: str) -> None:
    """409 ``Conflict`` when an operation on the VM is still in flight (consistency azure)."""
    if state.knobs.consistency != "azure":
        return
    in_flight: dict[str, str] = state.extras.setdefault(_IN_FLIGHT, {})
    operation_id = in_flight.get(vm_id.lower())
    if operation_id is None:
        return
    operation = state.operations.get(operation_id)
    if operation is None or operation.outcome is not None:
        del in_flight[vm_id.lower()]
        return
    raise ArmError(409, "Conflict", CONFLICT_MESSAGE)


def track(state: EmulatorState, vm_id: str, response: Response) -> Response:
    """Remember the long-running operation ``response`` started on the VM (if it started one)."""
    header = str(response.headers.get("Azure-AsyncOperation") or "")
    cut = header.lower().find(_STATUS_MARKER)
    if cut >= 0:
        operation_id = header[cut + len(_STATUS_MARKER) :].split("?", 1)[0]
        state.extras.setdefault(_IN_FLIGHT, {})[vm_id.lower()] = operation_id
    return response
