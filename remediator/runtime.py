"""Wiring: settings -> the backend a command runs against (Azure, any ARM endpoint, or the emulator).

``--estate`` serves the built-in emulator in-process for as long as the command runs, so a
``run`` that applies ends with its plan-again check against the same state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from .azure import ApplySettings, ArmSession, AzureBackend
from .config import Settings
from .engine_backend import Backend
from .errors import UsageError
from .runcontrol import RunControl

EMULATOR_POLL = 0.05


@dataclass(frozen=True)
class Target:
    backend: Backend
    # The clock for time-based playbooks: --now, else the estate file's "now", else None (real time).
    now: datetime | None
    # What guards this run against another one on the same scope, when the report should say so.
    guard_note: str = ""


UNGUARDED = "concurrent runs are not guarded: no lease container is configured (lease.container_url)"


@contextmanager
def _exclusive(settings: Settings, session: ArmSession, control: RunControl | None) -> Iterator[str]:
    """Hold the scope's run lease (README "Two runs at once") while the block runs; the report note."""
    if settings.lease is None:
        yield UNGUARDED
        return
    from .azure.lease import run_lease

    where = settings.scope
    # The replicas of a sharded run (--shard) work side by side by design: each holds its own share's lease.
    shard = f"{where.shard_index}/{where.shard_count}" if where.shard_count > 1 else ""
    scope = (where.subscriptions, where.management_group, shard)
    lease = settings.lease
    run_control = control or RunControl(settings.timeout_seconds)
    with run_lease(session, lease.container_url, scope, lease.duration_seconds, lease.wait_seconds, run_control):
        yield ""


# Against Azure: long enough for most grants (Microsoft says up to 10 minutes, the bound of the
# wait; role_propagation_seconds in the settings file raises it).
AZURE_ROLE_PROPAGATION = 180.0
# Against --estate the emulator says how long it delays a grant; a remediation's deployment may fail
# shortly before its task's answer reaches the bot, hence the margin.
EMULATOR_PROPAGATION_MARGIN = 30.0


def apply_settings(
    settings: Settings,
    default_poll: float = 5.0,
    control: RunControl | None = None,
    role_propagation: float | None = None,
) -> ApplySettings:
    poll = settings.poll_seconds if settings.poll_seconds is not None else default_poll
    propagation = settings.role_propagation_seconds
    if propagation is None:
        propagation = AZURE_ROLE_PROPAGATION if role_propagation is None else role_propagation
    return ApplySettings(
        provider_registration_timeout=settings.timeout_seconds,
        provider_poll_interval=poll,
        operation_timeout=settings.timeout_seconds,
        lro_poll_interval=poll,
        remediation_timeout=settings.timeout_seconds,
        remediation_poll_interval=poll,
        conflict_timeout=settings.timeout_seconds,
        conflict_poll_interval=poll,
        role_propagation_seconds=propagation,
        # About twenty tries over the window: never busier than polling, never 30 s apart.
        role_propagation_poll_interval=min(30.0, max(poll, propagation / 20)),
        control=control or RunControl(settings.timeout_seconds),
    )


@contextmanager
def open_target(
    settings: Settings, estate: str | None = None, control: RunControl | None = None, *, writes: bool = False
) -> Iterator[Target]:
    """``writes``: the command may change the tenant, so it holds the scope's run lease first (a dry
    run or a plan writes nothing and takes none). The in-process emulator of ``--estate`` is this
    command's alone: no other run can reach it, so it needs no lease."""
    if estate is None:
        session = ArmSession.create(settings.arm_endpoint, settings.ca_bundle)
        backend = AzureBackend(session, apply_settings(settings, control=control))
        try:
            with _exclusive(settings, session, control) if writes else nullcontext("") as note:
                yield Target(backend=backend, now=settings.now, guard_note=note)
        finally:
            backend.close()
        return
    # Imported here: the emulator (Werkzeug, trustme, lark) is only needed for --estate, and the
    # production image does not carry it (the `emulator` extra).
    try:
        from .emulator import Emulator
    except ImportError as exc:
        raise UsageError(
            f"--estate needs the emulator, which is not installed ({exc.name}): pip install 'aum-remediator[emulator]'"
        ) from None

    emulator = Emulator.load(estate)
    # The estate's own clock (DESIGN.md 3.3) unless --now overrides it; None means the wall clock.
    now = settings.now or emulator.state.now
    with emulator.serve(port=0) as endpoint:
        knobs = emulator.state.knobs
        delay = knobs.role_propagation_seconds if knobs.consistency == "azure" else 0.0
        modelled = delay + EMULATOR_PROPAGATION_MARGIN if delay > 0 else 0.0
        backend = AzureBackend(
            ArmSession.for_endpoint(endpoint), apply_settings(settings, EMULATOR_POLL, control, modelled)
        )
        try:
            yield Target(backend=backend, now=now)
        finally:
            backend.close()
