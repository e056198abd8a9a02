"""Exceptions that carry their exit code; only `remediator.cli` turns them into an exit."""

from __future__ import annotations


class RemediatorError(Exception):
    """Base: a one-line message meant for the user, and the exit code it maps to."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(RemediatorError):
    """Bad input: an unknown playbook, a malformed file, a bad subscription id."""


class ConfigError(RemediatorError):
    """The settings file, environment or flags do not make a valid configuration."""


class PlanFileError(RemediatorError):
    """A plan file that cannot be read, has an unknown major format, or was tampered with."""


class AzureAccessError(RemediatorError):
    """Authentication or an ARM call failed before anything was changed."""


class ArmOperationError(RemediatorError):
    """An ARM call made while applying a change failed; the engine records it as a failed outcome.

    ``code`` is ARM's error code (``AuthorizationFailed``, ``RoleAssignmentExists``, ...).
    """

    exit_code = 3

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.detail = message
        # The HTTP status when ARM answered: "not found" is a 404, whatever code the RP puts in it.
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.status == 404 or self.code in ("NotFound", "ResourceNotFound", "Http404")
