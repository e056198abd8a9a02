"""Turning azure-core exceptions into the project's errors, without leaking secrets.

ARM's error body (``{"error": {"code": ..., "message": ...}}``) is what users act on, so the
code and message come from there; only when the body has none do we fall back to the HTTP
status. Messages are cut to one line: a multi-line ARM message (or a credential chain's report)
would break the table renderer and can carry request headers.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

from ..errors import ArmOperationError, AzureAccessError

# Anything that looks like a bearer token, a JWT or a client secret assignment is masked before a
# message leaves this module: azure-identity's messages may echo parts of a failed token request.
_SECRET_PATTERNS = (
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)(client_secret|client_assertion|access_token|refresh_token|password)=[^&\s]+"),
)


# Secrets this process was handed (a client secret for a custom endpoint): masked in every message.
_KNOWN_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_DEFAULT_CREDENTIAL_HINT = (
    "no usable credential; sign in with `az login`, or configure a managed identity, workload identity "
    "federation, or AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET"
)


def register_secret(secret: str) -> None:
    """Remember ``secret`` so that `redact` masks it wherever it shows up."""
    if secret:
        with _SECRETS_LOCK:
            _KNOWN_SECRETS.add(secret)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` on one line with tokens, secret assignments and the given or known secrets masked."""
    out = " ".join(text.split())
    with _SECRETS_LOCK:
        known = sorted(_KNOWN_SECRETS, key=len, reverse=True)
    for secret in (*secrets, *known):
        if secret:
            out = out.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        out = pattern.sub("***", out)
    return out


def error_code(exc: HttpResponseError) -> str:
    """ARM's ``error.code``, or ``HttpNNN`` when the body carries none."""
    odata = getattr(exc, "error", None)
    code = getattr(odata, "code", None)
    if isinstance(code, str) and code:
        return code
    status = getattr(exc, "status_code", None)
    return f"Http{status}" if status else type(exc).__name__


def error_message(exc: HttpResponseError) -> str:
    odata = getattr(exc, "error", None)
    message = getattr(odata, "message", None)
    if not isinstance(message, str) or not message:
        message = getattr(exc, "reason", None) or exc.message or str(exc)
    return redact(str(message))


def to_arm_error(exc: HttpResponseError) -> ArmOperationError:
    return ArmOperationError(error_code(exc), error_message(exc), exc.status_code)


def to_access_error(exc: BaseException, *secrets: str | None) -> AzureAccessError:
    """A one-line AzureAccessError; ARM's error code is kept when ARM refused the token."""
    text = str(getattr(exc, "message", None) or exc).strip()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, HttpResponseError) and exc.error is not None and exc.error.code:
        first_line = f"{exc.error.code}: {exc.error.message or first_line}"
    elif first_line.startswith("DefaultAzureCredential failed"):
        # The chain's full report is a page long; its first line names no cause.
        first_line = _DEFAULT_CREDENTIAL_HINT
    return AzureAccessError(f"Azure authentication failed: {redact(first_line, *secrets)}")


@contextmanager
def arm_errors() -> Iterator[None]:
    """Run an ARM call; auth failures become AzureAccessError, other refusals ArmOperationError."""
    try:
        yield
    except ClientAuthenticationError as exc:
        # No token, or ARM refused the token (401): nothing this run does can succeed.
        raise to_access_error(exc) from None
    except HttpResponseError as exc:
        raise to_arm_error(exc) from None
    except AzureError as exc:  # no answer at all: a dropped connection, a timeout (after the retries)
        raise ArmOperationError(type(exc).__name__, _first_line(exc)) from None


@contextmanager
def read_errors() -> Iterator[None]:
    """Like `arm_errors`, for reads before any change: every failure is an AzureAccessError (exit 1)."""
    try:
        yield
    except ClientAuthenticationError as exc:
        raise to_access_error(exc) from None
    except HttpResponseError as exc:
        raise AzureAccessError(f"Azure read failed: {error_code(exc)}: {error_message(exc)}") from None
    except AzureError as exc:
        raise AzureAccessError(f"Azure read failed: {type(exc).__name__}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)
