"""The retry rules are data: which ARM answers are waited out, and which fail at once."""

from __future__ import annotations

import pytest

from remediator.azure.retry import OPERATION_IN_PROGRESS
from remediator.errors import ArmOperationError

CONCURRENT = (
    "The request failed due to conflict with a concurrent request. To resolve it, please refer to "
    "https://aka.ms/activitylog to get more details on the conflicting requests."
)


@pytest.mark.parametrize(
    ("code", "message", "retried"),
    [
        ("AnotherOperationInProgress", "Another operation on this or dependent resource is in progress.", True),
        (
            "ConflictingConcurrentWriteNotAllowed",
            "The operation was interrupted by a conflicting concurrent write.",
            True,
        ),
        ("Conflict", CONCURRENT, True),
        # A Conflict about something else lasts: waiting would only delay the failure.
        ("Conflict", "The resource operation completed with terminal provisioning state 'Failed'.", False),
        ("AuthorizationFailed", "does not have authorization", False),
    ],
)
def test_which_conflicts_are_waited_out(code: str, message: str, retried: bool) -> None:
    assert OPERATION_IN_PROGRESS.matches(ArmOperationError(code, message, 409)) is retried
