"""``remediator emulator ...``: serve an estate over HTTPS, or generate a synthetic estate.

The main CLI mounts this group with ``cli.add_command(emulator)``. Errors are raised as
``remediator.errors`` exceptions so the main CLI turns them into one line and an exit code.
"""

from __future__ import annotations

import json
import shlex
import sys
import threading
from pathlib import Path
from typing import Any

import click

from remediator.emulator.knobs import Fault
from remediator.emulator.service import Emulator
from remediator.errors import UsageError


@click.group(name="emulator")
def emulator() -> None:
    """The local HTTPS ARM emulator (no Azure account needed)."""


emulator_group = emulator


def _parse_fault(text: str) -> Fault:
    """``ROUTE=STATUS[@RATE]`` or ``ROUTE=drop[@RATE]``: ROUTE is a route name or a path fragment."""
    route, sep, rest = text.partition("=")
    if not sep or not route:
        raise UsageError(f"--fault '{text}': expected ROUTE=STATUS[@RATE] or ROUTE=drop[@RATE]")
    what, _, rate_text = rest.partition("@")
    try:
        rate = float(rate_text) if rate_text else 1.0
        if what == "drop":
            return Fault(route=route, drop=True, rate=rate)
        status = int(what)
    except ValueError:
        raise UsageError(f"--fault '{text}': expected ROUTE=STATUS[@RATE] or ROUTE=drop[@RATE]") from None
    if not 400 <= status <= 599 or not 0 <= rate <= 1:
        raise UsageError(f"--fault '{text}': status must be 400-599 and rate 0-1")
    code = "TooManyRequests" if status == 429 else "InjectedFault"
    return Fault(route=route, status=status, rate=rate, code=code)


@emulator.command()
@click.option("--estate", "estate", required=True, help="Estate file, or a bundled estate NAME (e.g. demo).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--latency-ms", type=click.FloatRange(0, 60000), default=None, help="Added latency per request.")
@click.option("--throttling/--no-throttling", default=None, help="ARM and Resource Graph throttling.")
@click.option("--provider-polls", type=click.IntRange(0, 10000), default=None, help="GETs a registration takes.")
@click.option("--lro-polls", type=click.IntRange(0, 10000), default=None, help="Polls a long-running operation takes.")
@click.option(
    "--remediation-polls", type=click.IntRange(0, 10000), default=None, help="Polls each state of a remediation takes."
)
@click.option("--page-size", type=click.IntRange(1, 5000), default=None, help="Items per ARM list page.")
@click.option(
    "--log-response-body-bytes",
    type=click.IntRange(min=0),
    default=None,
    help="The request log keeps answers up to this size (default 65536; 0: none).",
)
@click.option(
    "--consistency",
    type=click.Choice(["azure", "instant"]),
    default=None,
    help="azure (default): Azure's delays (policy evaluation, Resource Graph lag); instant: none.",
)
@click.option(
    "--request-log",
    "request_log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="When stopped, write every request served (method, path, status, route) to FILE, one JSON object a line.",
)
@click.option("--fault", "faults", multiple=True, help="Inject a fault: ROUTE=STATUS[@RATE] or ROUTE=drop[@RATE].")
def serve(
    estate: str,
    port: int,
    host: str,
    latency_ms: float | None,
    throttling: bool | None,
    provider_polls: int | None,
    lro_polls: int | None,
    remediation_polls: int | None,
    page_size: int | None,
    log_response_body_bytes: int | None,
    consistency: str | None,
    request_log: Path | None,
    faults: tuple[str, ...],
) -> None:
    """Serve an estate over HTTPS until interrupted; print the endpoint, CA and environment."""
    overrides: dict[str, Any] = {
        "latency_ms": latency_ms,
        "throttling": throttling,
        "provider_registration_polls": provider_polls,
        "lro_polls": lro_polls,
        "remediation_polls": remediation_polls,
        "page_size": page_size,
        "log_response_body_bytes": log_response_body_bytes,
        "consistency": consistency,
    }
    if faults:
        overrides["faults"] = tuple(_parse_fault(f) for f in faults)
    instance = Emulator.load(estate, **overrides)
    with instance.serve(host=host, port=port) as endpoint:
        click.echo(
            f"emulator serving {instance.label} at {endpoint.url} (consistency: {instance.state.knobs.consistency})"
        )
        click.echo(f"CA certificate: {endpoint.ca_path}")
        click.echo("environment for the bot:")
        for key, value in endpoint.env().items():
            click.echo(f"export {key}={shlex.quote(value)}")
        click.echo("press Ctrl+C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("emulator stopped")
    if request_log is not None:
        _write_request_log(instance, request_log)


def _write_request_log(instance: Emulator, path: Path) -> None:
    """What a separate process needs to check what a run wrote (bodies stay out: they may be large)."""
    try:
        with path.open("w", encoding="utf-8") as handle:
            for entry in instance.request_log:
                line = {"method": entry.method, "path": entry.path, "status": entry.status, "route": entry.route}
                handle.write(json.dumps(line) + "\n")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


@emulator.command()
@click.option("--machines", type=click.IntRange(min=1), required=True, help="Number of machines.")
@click.option("--subscriptions", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same estate).")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here instead of stdout."
)
@click.option("--healthy", is_flag=True, help="Only healthy machines (no playbook should flag any).")
def generate(machines: int, subscriptions: int, seed: int, out: Path | None, healthy: bool) -> None:
    """Write a synthetic estate with healthy and broken machines for every playbook (--healthy: only
    healthy ones, with look-alikes of failures: a run on it must find nothing)."""
    from remediator.emulator.generate import generate_estate

    estate = generate_estate(machines=machines, subscriptions=subscriptions, seed=seed, healthy=healthy)
    if out is None:
        json.dump(estate, sys.stdout, indent=1)  # streamed: a 100,000-machine estate is ~380 MB of text
        sys.stdout.write("\n")
        return
    try:
        with out.open("w", encoding="utf-8") as handle:
            json.dump(estate, handle, indent=1)
            handle.write("\n")
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror}") from None
    click.echo(f"wrote {out}: {machines} machines in {subscriptions} subscriptions", err=True)
