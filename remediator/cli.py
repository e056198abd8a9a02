"""The `remediator` command. Maps results and errors to exit codes; nothing else exits.

Exit codes (as ``terraform plan -detailed-exitcode``): 0 nothing left to fix; 2 changes pending;
1 error (bad input, auth, config: nothing was changed); 3 apply finished but a change failed;
4 changes were applied but the check afterwards could not read the tenant; 130/143 interrupted
by SIGINT/SIGTERM (the report is written first).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .config import Settings, build_settings, validate_assignable_scope, validate_options
from .engine import NOT_VERIFIED, Engine, Guardrails, PlanResult, PlaybookRun
from .errors import RemediatorError, UsageError
from .model import Plan
from .permissions import custom_role
from .plan_binding import check_endpoint, check_tenant, match_fresh, plan_scope, plan_target, target_label
from .planfile import read_plan, write_plan
from .playbook import load_playbooks
from .report import RENDERERS, render
from .runcontrol import RunControl
from .shards import Shard, merge_plans, messages_of, owned, shard_from

EXIT_CLEAN, EXIT_ERROR, EXIT_PENDING, EXIT_FAILED, EXIT_UNVERIFIED = 0, 1, 2, 3, 4
PUBLIC_ARM_ENDPOINT = "https://management.azure.com"

F = TypeVar("F", bound=Callable[..., Any])


def target_options(f: F) -> F:
    f = click.option("--estate", help="Run against the built-in emulator seeded from FILE or a bundled NAME.")(f)
    f = click.option(
        "--arm-endpoint",
        help="ARM endpoint (sovereign clouds, Azure Stack Hub); env REMEDIATOR_ARM_ENDPOINT.",
    )(f)
    f = click.option("--ca-bundle", help="PEM bundle that signs the ARM endpoint; env REMEDIATOR_CA_BUNDLE.")(f)
    f = click.option(
        "--lease-container",
        help="https://ACCOUNT/CONTAINER holding the run lease (one run per scope); env REMEDIATOR_LEASE_CONTAINER_URL.",
    )(f)
    return f


def selector_options(f: F) -> F:
    f = click.option("--subscription", "subscriptions", multiple=True, help="Subscription id (repeatable).")(f)
    f = click.option("--management-group", help="Management group id: every subscription under it.")(f)
    f = click.option("--playbook", "playbooks", multiple=True, help="Playbook id (repeatable); default: all.")(f)
    f = click.option("--config", "config_path", help="Settings file (YAML or JSON); env REMEDIATOR_CONFIG.")(f)
    f = click.option("--now", help="The clock for time-based playbooks (ISO 8601).")(f)
    f = click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="table", show_default=True)(f)
    f = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")(f)
    f = click.option(
        "--shard", help="INDEX/COUNT: plan only this replica's share of the subscriptions; env REMEDIATOR_SHARD."
    )(f)
    return target_options(f)


@click.group()
@click.version_option(__version__, prog_name="remediator")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """Find and fix the Azure Update Manager failures Microsoft documents."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        # azure-core logs every request at INFO, and DefaultAzureCredential its whole chain at
        # WARNING; the user gets our one-line error instead unless they ask for more.
        logging.getLogger("azure").setLevel(logging.ERROR if verbose == 0 else logging.WARNING)


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
        subscriptions=kw["subscriptions"],
        management_group=kw["management_group"],
        playbook_ids=kw["playbooks"],
        arm_endpoint=kw["arm_endpoint"],
        ca_bundle=kw["ca_bundle"],
        now=kw["now"],
        lease_container=kw.get("lease_container"),
    )


def _runs(settings: Settings) -> list[PlaybookRun]:
    registry = load_playbooks()
    for pid, pb_settings in settings.playbooks.items():
        validate_options(registry.get(pid), pb_settings.options)  # an unknown id is an error too
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
    return Engine(backend, _runs(settings), guardrails, control)


def _check_writable(out: Path | None) -> None:
    """Fail before anything is read or applied when the report could not be written afterwards."""
    if out is None:
        return
    existed = out.exists()
    try:
        with out.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    if not existed:
        out.unlink(missing_ok=True)


def _emit(plan: Plan, fmt: str, out: Path | None, errors: tuple[str, ...], notes: tuple[str, ...]) -> None:
    text = render(plan, fmt, errors, notes)
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
            return
        except OSError as exc:  # the outcomes must not be lost: they go to stdout instead
            click.echo(f"error: --out {out}: cannot write ({exc.strerror or exc}); the report follows", err=True)
    click.echo(text, nl=False)


def _label(settings: Settings, estate: str | None) -> str:
    return target_label(estate, settings.arm_endpoint or PUBLIC_ARM_ENDPOINT)


def _plan(settings: Settings, estate: str | None, dry_run: bool, control: RunControl) -> tuple[PlanResult, Plan]:
    from .runtime import open_target

    with open_target(settings, estate, control, writes=not dry_run) as target:
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
@click.option("--dry-run", is_flag=True, help="Plan only: say exactly what would change, change nothing.")
def run(dry_run: bool, estate: str | None, fmt: str, out: Path | None, **kw: Any) -> int:
    """Detect, plan and (unless --dry-run) apply, then plan again."""
    settings = _settings(**kw)
    _check_writable(out)
    control = RunControl(settings.timeout_seconds)
    with control.signals_handled():
        result, plan = _plan(settings, estate, dry_run, control)
    unverified = _unverified(plan, result.unverified)
    notes = (*result.notes, f"applied, not verified: {unverified}") if unverified else result.notes
    _emit(plan, fmt, out, result.errors, notes)
    forced = None if dry_run else _apply_exit(control, plan, unverified)
    if forced is not None:
        return forced
    if result.errors:
        return EXIT_ERROR if dry_run else EXIT_FAILED
    pending = plan.changes if dry_run else (plan.replan.changes if plan.replan else ())
    return EXIT_PENDING if pending else EXIT_CLEAN


@cli.command("plan")
@selector_options
def plan_cmd(estate: str | None, fmt: str, out: Path | None, **kw: Any) -> int:
    """Write the plan to --out (JSON) and print it in --format."""
    if out is None:
        raise UsageError("plan needs --out FILE to write the plan to")
    settings = _settings(**kw)
    _check_writable(out)
    control = RunControl(settings.timeout_seconds)
    with control.signals_handled():
        result, plan = _plan(settings, estate, dry_run=True, control=control)
    write_plan(plan, out, result.errors, result.notes)
    click.echo(render(plan, fmt if fmt != "json" else "table", result.errors, result.notes), nl=False)
    if result.errors:
        return EXIT_ERROR
    return EXIT_PENDING if plan.changes else EXIT_CLEAN


@cli.command()
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Apply without asking.")
@click.option("--config", "config_path", help="Settings file (YAML or JSON).")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@target_options
def apply(plan_file: Path, yes: bool, estate: str | None, fmt: str, out: Path | None, **kw: Any) -> int:
    """Apply a plan written by `plan --out`: only the changes a plan made now also makes, only against
    the tenant, endpoint and scope it was made for; changes whose target moved since are stale."""
    from .azure import get_action
    from .runtime import open_target

    settings = build_settings(
        config_path=kw["config_path"],
        arm_endpoint=kw["arm_endpoint"],
        ca_bundle=kw["ca_bundle"],
        lease_container=kw["lease_container"],
    )
    _check_writable(out)
    plan = read_plan(plan_file)
    for change in plan.changes:
        get_action(change.action)  # an unknown action is bad input: one line, exit 1
    check_endpoint(plan, _label(settings, estate))
    scope = plan_scope(plan, settings.scope)
    if not plan.changes:
        _emit(replace(plan, dry_run=False), fmt, out, (), ("the plan holds no changes",))
        return EXIT_CLEAN
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to apply without --yes when nobody can answer the prompt")
        click.confirm(f"Apply {len(plan.changes)} changes?", abort=True, err=True)
    control = RunControl(settings.timeout_seconds)
    with control.signals_handled(), open_target(settings, estate, control, writes=True) as target:
        engine = _engine(settings, target.backend, control)
        fresh = engine.plan(scope, target.now, dry_run=True)
        check_tenant(plan, fresh.estate.tenant_id)
        kept, refused = match_fresh(plan.changes, fresh.plan.changes, engine.is_done)
        done = engine.apply(replace(plan, changes=tuple(kept)))
    by_id = {o.change_id: o for o in (*done.outcomes, *refused)}
    applied = replace(done, changes=plan.changes, outcomes=tuple(by_id[c.id] for c in plan.changes))
    unverified = _unverified(applied)
    notes = (target.guard_note,) if target.guard_note else ()
    _emit(applied, fmt, out, (), (*notes, f"applied, not verified: {unverified}") if unverified else notes)
    forced = _apply_exit(control, applied, unverified)
    if forced is not None:
        return forced
    # A stale or skipped change is still to do: plan again against what the tenant holds now.
    return EXIT_PENDING if any(o.status in ("stale", "skipped") for o in applied.outcomes) else EXIT_CLEAN


@cli.command()
def playbooks() -> int:
    """List the playbooks: id, title, whether the fix is on by default, the permissions it needs."""
    for pb in load_playbooks().all():
        fix = "report only" if pb.report_only else "fix on" if pb.fix_default else "fix opt-in"
        click.echo(f"{pb.id}\t{fix}\t{pb.title}\t{', '.join(pb.permissions) or '-'}")
    return EXIT_CLEAN


@cli.command()
@click.option("--scope", "scopes", multiple=True, help="AssignableScopes entry (repeatable).")
@click.option("--playbook", "playbook_ids", multiple=True, help="Playbook id (repeatable); default: all.")
@click.option("--config", "config_path", help="Settings file: its enabled playbooks and fix switches count.")
def permissions(scopes: Sequence[str], playbook_ids: Sequence[str], config_path: str | None) -> int:
    """Print a least-privilege custom role definition for the enabled playbooks and fixes."""
    scopes = [validate_assignable_scope(scope) for scope in scopes]
    settings = build_settings(config_path=config_path, playbook_ids=playbook_ids)
    runs = _runs(settings)
    role = custom_role([r.playbook for r in runs], tuple(scopes), fixing={r.playbook.id for r in runs if r.fixing})
    click.echo(json.dumps(role, indent=2))
    return EXIT_CLEAN


@cli.group()
def report() -> None:
    """Work with reports and plans written by earlier runs."""


@report.command("merge")
@click.argument("plan_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
def report_merge(plan_files: tuple[Path, ...], fmt: str, out: Path | None) -> int:
    """Join the JSON plans of a sharded run (--shard) into one report; exit as `plan` would."""
    plans = [read_plan(path) for path in plan_files]
    merged = merge_plans(plans, [str(p) for p in plan_files])
    errors: list[str] = []
    notes: list[str] = []
    for path in plan_files:
        more_errors, more_notes = messages_of(path)
        errors += more_errors
        notes += more_notes
    _emit(merged, fmt, out, tuple(errors), tuple(notes))
    if errors:
        return EXIT_ERROR  # a shard planned from an incomplete view: the union is not the whole plan
    if merged.failed:
        return EXIT_FAILED
    return EXIT_PENDING if merged.changes else EXIT_CLEAN


def _mount_emulator() -> None:
    from .emulator.cli import emulator

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
