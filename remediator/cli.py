"""The `remediator` command. Maps results and errors to exit codes; nothing else exits.

Exit codes (as ``terraform plan -detailed-exitcode``): 0 nothing left to fix; 2 changes pending;
1 error (bad input, auth, config: nothing was changed); 3 apply finished but a change failed;
4 changes were applied but the check afterwards could not read the tenant; 130/143 interrupted
by SIGINT/SIGTERM (the report is written first).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .config import Settings, build_settings, check_playbook_settings, validate_assignable_scope, validate_options
from .engine import NOT_VERIFIED, Engine, Guardrails, PlanResult, PlaybookRun
from .errors import RemediatorError, UsageError
from .estate import Estate
from .model import Plan
from .permissions import custom_role, require_scopes, role_assignment_condition
from .plan_binding import check_endpoint, check_tenant, match_fresh, plan_scope, plan_target, target_label
from .planfile import read_plan, write_plan
from .playbook import load_playbooks
from .report import RENDERERS, PlaybookInfo, ReportContext, headline, render
from .report import logs as report_logs
from .report.progress import MODES as PROGRESS_MODES
from .report.progress import showing_progress
from .report.validation import describe_settings
from .runcontrol import RunControl
from .shards import Shard, merge_plans, messages_of, owned, shard_from

EXIT_CLEAN, EXIT_ERROR, EXIT_PENDING, EXIT_FAILED, EXIT_UNVERIFIED = 0, 1, 2, 3, 4
EXIT_MEANING = {
    0: "nothing left to fix",
    1: "error",
    2: "changes pending",
    3: "a change failed",
    4: "applied, not verified",
    130: "interrupted",
    143: "terminated",
}
PUBLIC_ARM_ENDPOINT = "https://management.azure.com"

F = TypeVar("F", bound=Callable[..., Any])
summary_log = logging.getLogger("remediator.summary")
config_log = logging.getLogger("remediator.config")


def env(name: str) -> str:
    """Every flag has an environment variable: REMEDIATOR_ and the flag's name in capitals."""
    return "REMEDIATOR_" + name.upper().replace("-", "_")


@dataclass
class RunState:
    """What the group options set up for the command: the run id, log format, progress mode."""

    run_id: str
    log_format: str = "text"
    progress: str = "auto"
    started: float = 0.0
    pending_exit_code: int = 2


def option(*names: str, envvar: str, **kw: Any) -> Callable[[F], F]:
    return click.option(*names, envvar=env(envvar), show_envvar=True, **kw)


def target_options(f: F) -> F:
    f = option(
        "--lease-container",
        envvar="lease_container_url",
        help="https://ACCOUNT/CONTAINER holding the run lease (one run per scope at a time).",
    )(f)
    f = option("--ca-bundle", envvar="ca_bundle", help="PEM bundle that signs the ARM endpoint.")(f)
    f = option("--arm-endpoint", envvar="arm_endpoint", help="ARM endpoint (sovereign clouds, Azure Stack Hub).")(f)
    f = option(
        "--estate", envvar="estate", help="Run against the built-in emulator seeded from FILE or a bundled NAME."
    )(f)
    return f


def config_option(f: F) -> F:
    return option("--config", "config_path", envvar="config", help="Settings file (YAML or JSON).")(f)


def scope_options(f: F) -> F:
    # Applied bottom-up: --help lists them in the reverse of this order.
    f = config_option(f)
    f = option(
        "--playbook",
        "playbooks",
        envvar="playbooks",
        multiple=True,
        help="Playbook id (repeatable; space-separated in the variable); default: all.",
    )(f)
    f = option(
        "--management-group", envvar="management_group", help="Management group id: every subscription under it."
    )(f)
    f = option(
        "--subscription",
        "subscriptions",
        envvar="subscriptions",
        multiple=True,
        help="Subscription id (repeatable; the variable holds them space-separated).",
    )(f)
    return f


def report_options(f: F) -> F:
    f = option(
        "--top",
        envvar="top",
        type=click.IntRange(min=0),
        help="Detail rows in the table and markdown reports (default 50; 0: all).",
    )(f)
    f = option("--locale", envvar="locale", help="Microsoft Learn locale of doc links (default en-us; e.g. ja-jp).")(f)
    f = option(
        "--report",
        "reports",
        envvar="reports",
        multiple=True,
        metavar="FORMAT=FILE",
        help="Also write a report in FORMAT to FILE (repeatable): e.g. --report html=report.html.",
    )(f)
    f = option(
        "--out",
        envvar="out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the report here (not stdout).",
    )(f)
    f = option(
        "--format", "fmt", envvar="format", type=click.Choice(sorted(RENDERERS)), default="table", show_default=True
    )(f)
    return f


def selector_options(f: F) -> F:
    f = target_options(f)
    f = option("--shard", envvar="shard", help="INDEX/COUNT: plan only this replica's share of the subscriptions.")(f)
    f = report_options(f)
    f = option("--now", envvar="now", help="The clock for time-based playbooks (ISO 8601).")(f)
    return scope_options(f)


@click.group()
@click.version_option(__version__, prog_name="remediator")
@option(
    "-v",
    "--verbose",
    envvar="verbose",
    count=True,
    help="-v: what the bot does (inventory, findings per playbook, each outcome); -vv: debug and SDK HTTP logs.",
)
@option(
    "--log-format",
    envvar="log_format",
    type=click.Choice(report_logs.LOG_FORMATS),
    default="text",
    show_default=True,
    help="json: one JSON object a line on stderr, each with the run id (for log pipelines).",
)
@option(
    "--progress",
    "progress_mode",
    envvar="progress",
    type=click.Choice(PROGRESS_MODES),
    default="auto",
    show_default=True,
    help="Progress on stderr: auto (a bar on a terminal, a line every 10 s otherwise), bar, plain or off.",
)
@option(
    "--pending-exit-code",
    envvar="pending_exit_code",
    type=click.IntRange(0, 255),
    callback=lambda ctx, param, value: _pending_code(value),
    default=EXIT_PENDING,
    show_default=True,
    help="Exit code for 'changes pending' (a dry run that found fixes, a plan trimmed by max_changes): a "
    "scheduled job sets 0, so work left for the next run is not a failed job.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, log_format: str, progress_mode: str, pending_exit_code: int) -> None:
    """Find and fix the Azure Update Manager failures Microsoft documents."""
    state = RunState(
        run_id=uuid.uuid4().hex[:12],
        log_format=log_format,
        progress=progress_mode,
        started=time.monotonic(),
        pending_exit_code=pending_exit_code,
    )
    report_logs.configure(verbose, log_format, state.run_id)
    ctx.obj = state


def _settings(**kw: Any) -> Settings:
    return _sharded(kw.get("shard"), _unsharded_settings(**kw))


def _sharded(flag: str | None, settings: Settings) -> Settings:
    """Settings whose scope is one shard's (``--shard``, else REMEDIATOR_SHARD), or unchanged."""
    shard = shard_from(flag)
    if shard is None:
        return settings
    return replace(settings, scope=replace(settings.scope, shard_index=shard.index, shard_count=shard.count))


def _unsharded_settings(**kw: Any) -> Settings:
    return build_settings(
        config_path=kw["config_path"],
        subscriptions=kw.get("subscriptions", ()),
        management_group=kw.get("management_group"),
        playbook_ids=kw.get("playbooks", ()),
        arm_endpoint=kw.get("arm_endpoint"),
        ca_bundle=kw.get("ca_bundle"),
        now=kw.get("now"),
        locale=kw.get("locale"),
        top=kw.get("top"),
        lease_container=kw.get("lease_container"),
    )


def _state() -> RunState:
    obj = click.get_current_context().find_root().obj
    return obj if isinstance(obj, RunState) else RunState(run_id=uuid.uuid4().hex[:12], started=time.monotonic())


def _runs(settings: Settings, warn: bool = True) -> list[PlaybookRun]:
    registry = load_playbooks()
    for pid, pb_settings in settings.playbooks.items():
        validate_options(registry.get(pid), pb_settings.options)  # an unknown id is an error too
    for warning in check_playbook_settings(settings, registry):
        if warn:
            config_log.warning("%s", warning)
    scope = settings.scope
    shard = Shard(scope.shard_index, scope.shard_count) if scope.shard_count > 1 else None
    return [
        PlaybookRun(
            playbook=owned(pb, shard) if shard else pb,
            options=settings.playbooks[pb.id].options if pb.id in settings.playbooks else {},
            fix_enabled=settings.playbooks[pb.id].fix if pb.id in settings.playbooks else None,
        )
        for pb in registry.select(settings.playbook_ids)
    ]


def _engine(settings: Settings, backend: Any, control: RunControl | None = None) -> Engine:
    guardrails = Guardrails(
        max_changes=settings.max_changes,
        exclude=settings.exclude,
        exclude_tags=settings.exclude_tags,
        concurrency=settings.concurrency,
    )
    return Engine(backend, _runs(settings, warn=False), guardrails, control)


def _check_writable(out: Path | None, flag: str = "--out") -> None:
    """Fail before anything is read or applied when the report could not be written afterwards."""
    if out is None:
        return
    existed = out.exists()
    try:
        with out.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"{flag} {out}: cannot write: {exc.strerror or exc}") from None
    if not existed:
        out.unlink(missing_ok=True)


def _extra_reports(values: Sequence[str]) -> list[tuple[str, Path]]:
    """``--report FORMAT=FILE`` values, checked (format and writability) before anything runs."""
    out: list[tuple[str, Path]] = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path or fmt not in RENDERERS:
            raise UsageError(
                f"invalid --report {value!r}: expected FORMAT=FILE with FORMAT one of {', '.join(sorted(RENDERERS))}"
            )
        _check_writable(Path(path), "--report")
        out.append((fmt, Path(path)))
    return out


def _report_context(
    settings: Settings,
    runs: Sequence[PlaybookRun],
    estate: Estate | None,
    to_terminal: bool,
    seconds: Mapping[str, float] | None = None,
) -> ReportContext:
    state = _state()
    return ReportContext(
        locale=settings.locale,
        top=settings.top,
        playbooks={
            r.playbook.id: PlaybookInfo(title=r.playbook.title, fixing=r.fixing, report_only=r.playbook.report_only)
            for r in runs
        },
        subscriptions={s.subscription_id.lower(): s.display_name for s in estate.subscriptions} if estate else {},
        run_id=state.run_id,
        elapsed_seconds=time.monotonic() - state.started,
        playbook_seconds=dict(seconds or {}),
        # Colour only for a person at a terminal who did not ask for none (no-color.org).
        color=to_terminal and sys.stdout.isatty() and "NO_COLOR" not in os.environ,
        width=shutil.get_terminal_size(fallback=(120, 24)).columns,
    )


def _emit(
    plan: Plan,
    fmt: str,
    out: Path | None,
    errors: tuple[str, ...],
    notes: tuple[str, ...],
    ctx: ReportContext | None = None,
    reports: Sequence[tuple[str, Path]] = (),
) -> None:
    base = ctx or ReportContext()
    text = render(plan, fmt, errors, notes, base if out is None else replace(base, color=False))
    written = False
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
            written = True
        except OSError as exc:  # the outcomes must not be lost: they go to stdout instead
            click.echo(f"error: --out {out}: cannot write ({exc.strerror or exc}); the report follows", err=True)
    if not written:
        click.echo(text, nl=False)
    for extra_fmt, path in reports:
        try:
            path.write_text(render(plan, extra_fmt, errors, notes, replace(base, color=False)), encoding="utf-8")
        except OSError as exc:  # the main report holds the outcomes; say which extra one is missing
            click.echo(f"error: --report {extra_fmt}={path}: cannot write ({exc.strerror or exc})", err=True)


def _pending_code(value: int) -> int:
    """'Changes pending' may be 0 for a scheduled job, never a code that means something else (DESIGN.md 3.1)."""
    if value in (EXIT_ERROR, EXIT_FAILED, EXIT_UNVERIFIED, 130, 143):
        raise UsageError(f"--pending-exit-code {value} would read as another outcome (1, 3, 4, 130 and 143 are taken)")
    return value


def _finish(command: str, plan: Plan, code: int) -> int:
    """The one line a person (or a log query) reads last: what happened and what the exit code means."""
    state = _state()
    meaning = EXIT_MEANING.get(code, "error")
    if code == EXIT_PENDING:
        code = state.pending_exit_code
    elapsed = time.monotonic() - state.started
    summary_log.info(
        "remediator %s: %s; exit %d (%s) in %.1fs",
        command,
        headline(plan),
        code,
        meaning,
        elapsed,
        extra={
            "command": command,
            "exit_code": code,
            "findings": len(plan.findings),
            "changes": len(plan.changes),
            "elapsed_seconds": round(elapsed, 3),
        },
    )
    return code


def _label(settings: Settings, estate: str | None) -> str:
    return target_label(estate, settings.arm_endpoint or PUBLIC_ARM_ENDPOINT)


def _plan(settings: Settings, estate: str | None, dry_run: bool, control: RunControl) -> tuple[PlanResult, Plan]:
    from .runtime import open_target

    state = _state()
    with (
        showing_progress(state.progress, state.log_format),
        open_target(settings, estate, control, writes=not dry_run) as target,
    ):
        engine = _engine(settings, target.backend, control)
        if dry_run:
            result = engine.plan(settings.scope, target.now, dry_run=True)
        else:
            result = engine.run(settings.scope, target.now, rounds=settings.rounds)
    if target.guard_note:
        result = replace(result, notes=(*result.notes, target.guard_note))
    plan = replace(result.plan, target=plan_target(_label(settings, estate), result.estate.tenant_id))
    return result, plan


def _unverified(plan: Plan, result_unverified: str = "") -> str:
    """Why the run cannot say what it left behind ("" when it can)."""
    if result_unverified:
        return result_unverified
    count = sum(1 for o in plan.outcomes if o.error is not None and o.error.code == NOT_VERIFIED)
    return f"{count} applied changes could not be read back" if count else ""


def _apply_exit(control: RunControl, plan: Plan, unverified: str) -> int | None:
    """The exit code an apply forces (interrupted, failed, not verified), or None to go on."""
    if control.stopping:
        return control.exit_code
    if plan.failed:
        return EXIT_FAILED
    if unverified:
        click.echo(f"warning: applied, not verified: {unverified}", err=True)
        return EXIT_UNVERIFIED
    return None


@cli.command()
@selector_options
@option("--dry-run", envvar="dry_run", is_flag=True, help="Plan only: say exactly what would change, change nothing.")
def run(dry_run: bool, estate: str | None, fmt: str, out: Path | None, reports: tuple[str, ...], **kw: Any) -> int:
    """Detect, plan and (unless --dry-run) apply, then plan again."""
    extra = _extra_reports(reports)
    _check_writable(out)
    settings = _settings(**kw)
    runs = _runs(settings)
    control = RunControl(settings.timeout_seconds)
    with control.signals_handled():
        result, plan = _plan(settings, estate, dry_run, control)
    unverified = _unverified(plan, result.unverified)
    notes = (*result.notes, f"applied, not verified: {unverified}") if unverified else result.notes
    ctx = _report_context(settings, runs, result.estate, out is None, result.seconds)
    _emit(plan, fmt, out, result.errors, notes, ctx, extra)
    forced = None if dry_run else _apply_exit(control, plan, unverified)
    if forced is not None:
        return _finish("run", plan, forced)
    if result.errors:
        return _finish("run", plan, EXIT_ERROR if dry_run else EXIT_FAILED)
    pending = plan.changes if dry_run else (plan.replan.changes if plan.replan else ())
    return _finish("run", plan, EXIT_PENDING if pending else EXIT_CLEAN)


@cli.command("plan")
@selector_options
@option(
    "--plan-out",
    envvar="plan_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the plan JSON here and the --format report to --out (or stdout).",
)
def plan_cmd(
    estate: str | None, fmt: str, out: Path | None, plan_out: Path | None, reports: tuple[str, ...], **kw: Any
) -> int:
    """Write the plan (JSON, for `apply`) and print it in --format.

    With --out alone the plan JSON goes to --out and the report to stdout; with --plan-out the plan
    goes there and --out takes the report.
    """
    plan_path, report_out = (plan_out, out) if plan_out is not None else (out, None)
    if plan_path is None:
        raise UsageError("plan needs --out FILE (or --plan-out FILE) to write the plan to")
    _check_writable(plan_path, "--plan-out" if plan_out is not None else "--out")
    _check_writable(report_out)
    extra = _extra_reports(reports)
    settings = _settings(**kw)
    runs = _runs(settings)
    control = RunControl(settings.timeout_seconds)
    with control.signals_handled():
        result, plan = _plan(settings, estate, dry_run=True, control=control)
    write_plan(plan, plan_path, result.errors, result.notes)
    ctx = _report_context(settings, runs, result.estate, report_out is None, result.seconds)
    _emit(plan, fmt, report_out, result.errors, result.notes, ctx, extra)
    if result.errors:
        return _finish("plan", plan, EXIT_ERROR)
    return _finish("plan", plan, EXIT_PENDING if plan.changes else EXIT_CLEAN)


@cli.command()
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@option("--yes", envvar="yes", is_flag=True, help="Apply without asking.")
@config_option
@report_options
@target_options
def apply(
    plan_file: Path, yes: bool, estate: str | None, fmt: str, out: Path | None, reports: tuple[str, ...], **kw: Any
) -> int:
    """Apply a plan written by `plan --out`: only the changes a plan made now also makes, only against
    the tenant, endpoint and scope it was made for; changes whose target moved since are stale."""
    from .azure import get_action
    from .runtime import open_target

    extra = _extra_reports(reports)
    _check_writable(out)
    settings = _settings(**kw)
    runs = _runs(settings)
    plan = read_plan(plan_file)
    for change in plan.changes:
        get_action(change.action)  # an unknown action is bad input: one line, exit 1
    check_endpoint(plan, _label(settings, estate))
    scope = plan_scope(plan, settings.scope)
    ctx = _report_context(settings, runs, None, out is None)
    if not plan.changes:
        done = replace(plan, dry_run=False)
        _emit(done, fmt, out, (), ("the plan holds no changes",), ctx, extra)
        return _finish("apply", done, EXIT_CLEAN)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to apply without --yes when nobody can answer the prompt")
        click.confirm(f"Apply {len(plan.changes)} changes?", abort=True, err=True)
    state = _state()
    control = RunControl(settings.timeout_seconds)
    with (
        control.signals_handled(),
        showing_progress(state.progress, state.log_format),
        open_target(settings, estate, control, writes=True) as target,
    ):
        engine = _engine(settings, target.backend, control)
        fresh = engine.plan(scope, target.now, dry_run=True)
        check_tenant(plan, fresh.estate.tenant_id)
        kept, refused = match_fresh(plan.changes, fresh.plan.changes, engine.is_done)
        done = engine.apply(replace(plan, changes=tuple(kept)))
    by_id = {o.change_id: o for o in (*done.outcomes, *refused)}
    applied = replace(done, changes=plan.changes, outcomes=tuple(by_id[c.id] for c in plan.changes))
    unverified = _unverified(applied)
    ctx = _report_context(settings, runs, fresh.estate, out is None)
    notes = (target.guard_note,) if target.guard_note else ()
    _emit(applied, fmt, out, (), (*notes, f"applied, not verified: {unverified}") if unverified else notes, ctx, extra)
    forced = _apply_exit(control, applied, unverified)
    if forced is not None:
        return _finish("apply", applied, forced)
    # A stale or skipped change is still to do: plan again against what the tenant holds now.
    pending = any(o.status in ("stale", "skipped") for o in applied.outcomes)
    return _finish("apply", applied, EXIT_PENDING if pending else EXIT_CLEAN)


@cli.command()
@scope_options
@option("--now", envvar="now", help="The clock for time-based playbooks (ISO 8601).")
@option("--locale", envvar="locale", help="Microsoft Learn locale of doc links.")
@target_options
def validate(estate: str | None, **kw: Any) -> int:
    """Check a settings file, the scope and the flags without touching Azure (no credential, no call).

    Exit 0 when the run would start (warnings on stderr), 1 with the first problem otherwise.
    """
    settings = _settings(**kw)
    runs = _runs(settings, warn=False)
    warnings = check_playbook_settings(settings, load_playbooks())
    source = kw.get("config_path") or os.environ.get(env("config"))
    text, more = describe_settings(settings, runs, source, estate)
    click.echo(text, nl=False)
    for warning in (*warnings, *more):
        click.echo(f"warning: {warning}", err=True)
    return EXIT_CLEAN


@cli.command()
def playbooks() -> int:
    """List the playbooks: id, title, whether the fix is on by default, the permissions it needs."""
    for pb in load_playbooks().all():
        fix = "report only" if pb.report_only else "fix on" if pb.fix_default else "fix opt-in"
        click.echo(f"{pb.id}\t{fix}\t{pb.title}\t{', '.join(pb.permissions) or '-'}")
    return EXIT_CLEAN


@cli.command()
@option(
    "--scope",
    "scopes",
    envvar="scopes",
    multiple=True,
    help="Where the role is assignable (repeatable; required): /subscriptions/ID[/resourceGroups/NAME] or a "
    "management group's id.",
)
@option("--playbook", "playbook_ids", envvar="playbooks", multiple=True, help="Playbook id (repeatable); default: all.")
@option("--config", "config_path", envvar="config", help="Settings file: its enabled playbooks and fix switches count.")
@option(
    "--condition",
    envvar="condition",
    is_flag=True,
    help="Print the ABAC condition for the bot's role assignment instead of the role (only the roles Update "
    "Manager's policies name may be granted).",
)
def permissions(scopes: Sequence[str], playbook_ids: Sequence[str], config_path: str | None, condition: bool) -> int:
    """Print a least-privilege custom role definition for the enabled playbooks and fixes."""
    chosen = tuple(validate_assignable_scope(scope) for scope in require_scopes(tuple(scopes)))
    settings = build_settings(config_path=config_path, playbook_ids=playbook_ids)
    runs = _runs(settings)
    role = custom_role([r.playbook for r in runs], chosen, fixing={r.playbook.id for r in runs if r.fixing})
    if condition:
        if "Microsoft.Authorization/roleAssignments/write" not in role["Actions"]:
            raise UsageError("no condition needed: the enabled fixes grant no roles (policy-identity-roles is off)")
        click.echo(role_assignment_condition())
    else:
        click.echo(json.dumps(role, indent=2))
    return EXIT_CLEAN


@cli.group()
def report() -> None:
    """Work with reports and plans written by earlier runs."""


@report.command("merge")
@click.argument("plan_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@report_options
def report_merge(plan_files: tuple[Path, ...], fmt: str, out: Path | None, reports: tuple[str, ...], **kw: Any) -> int:
    """Join the JSON plans of a sharded run (--shard) into one report; exit as `plan` would."""
    plans = [read_plan(path) for path in plan_files]
    merged = merge_plans(plans, [str(p) for p in plan_files])
    errors: list[str] = []
    notes: list[str] = []
    for path in plan_files:
        more_errors, more_notes = messages_of(path)
        errors += more_errors
        notes += more_notes
    extra = _extra_reports(reports)
    _check_writable(out)
    settings = build_settings(locale=kw.get("locale"), top=kw.get("top"))
    ctx = _report_context(settings, _runs(settings, warn=False), None, out is None)
    _emit(merged, fmt, out, tuple(errors), tuple(notes), ctx, extra)
    if errors:
        return EXIT_ERROR  # a shard planned from an incomplete view: the union is not the whole plan
    if merged.failed:
        return _finish("report merge", merged, EXIT_FAILED)
    return _finish("report merge", merged, EXIT_PENDING if merged.changes else EXIT_CLEAN)


def _mount_emulator() -> None:
    """`remediator emulator ...` exists where the `emulator` extra is installed (not in the production image)."""
    try:
        from .emulator.cli import emulator
    except ImportError:
        return
    cli.add_command(emulator)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: every error is one line on stderr and an exit code, never a traceback."""
    _mount_emulator()
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="remediator", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        # click's usage errors exit 2, which here means "changes pending": map them to 1.
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(EXIT_ERROR)
    except RemediatorError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code if exc.exit_code not in (EXIT_FAILED, EXIT_PENDING, EXIT_CLEAN) else EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the user gets one line; -vv logs the traceback
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        click.echo(f"error: internal error: {type(exc).__name__}: {exc} (run with -vv for details)", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else EXIT_CLEAN)
