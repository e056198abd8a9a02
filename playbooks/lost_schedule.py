"""lost-schedule: a machine that ran under a schedule and is no longer attached to it, with no
stale assignment left to show it.

troubleshoot.md, "You can't apply patches for shut-down machines": "machines are losing their
associated maintenance configurations or schedules"; "Maintenance configuration isn't applied
when you move a VM", once the stale assignment is gone. The evidence Azure keeps is the run
history: an ``applyupdates`` record of the machine under a configuration within ``history_days``
(default 35). A machine is flagged when such a run exists, the configuration still schedules
(InGuestPatch, not expired) and has no dynamic scope (a machine a dynamic scope no longer selects
is maintenance-moved-resource's finding), and no static assignment attaches the machine to it.

Which machine: the run's ``resourceId`` if it still exists; otherwise the one machine of that name
and type elsewhere (a move), and only if it already existed when the run happened
(``timeCreated`` before the run: the same instance that moved, not a new machine given the old
name). Runs before the machine's ``timeCreated`` belong to an earlier machine with the same id:
recreated-machine's case, not this one. Machines the scheduling policy reports non-compliant get
their assignment back from policy-remediation's remediation task; the finding says so and plans
nothing.

The fix (opt-in: an owner may have taken the machine out on purpose) re-creates the static
assignment on the machine.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from remediator import Change, Context, Finding, Needs, Playbook, Resource, parse_resource_id, register

from ._maintenance_model import (
    MAINTENANCE_RESOURCE_TYPES,
    MaintenanceView,
    assignment_id_for,
    options_schema,
    power_state,
    time_of,
    view_of,
)

PLAYBOOK_ID = "lost-schedule"
SHUT_DOWN_DOC = "troubleshoot.md#you-cant-apply-patches-for-shut-down-machines"
MOVED_DOC = "troubleshoot.md#maintenance-configuration-isnt-applied-when-you-move-a-vm"
SCHEDULING_POLICY = "ba0df93e-e4ac-479a-aac2-134bbae39a1a"
RUNNING = frozenset({"running", "connected", ""})


def _machine_of(view: MaintenanceView, run_target: str, started_at: object) -> Resource | None:
    found = view.estate.get(run_target)
    if found is not None:
        return found
    parts = parse_resource_id(run_target)
    named = view.by_name.get((parts.get("name", "").lower(), parts.get("type", "").lower()), [])
    started = time_of(started_at)
    if len(named) != 1 or started is None:
        return None
    created = time_of(named[0].properties.get("timeCreated"))
    return named[0] if created is not None and created < started else None


def _policy_reports(ctx: Context, machine: Resource) -> bool:
    return any(
        s.resource_id.lower() == machine.key
        and s.compliance_state.lower() == "noncompliant"
        and s.policy_definition_id.lower().endswith(SCHEDULING_POLICY)
        for s in ctx.estate.policy_states
    )


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx.estate)
    since = view.now - timedelta(days=float(ctx.option("history_days", 35)))
    dynamic_configs = {d.configuration_id.lower() for d in view.dynamic}
    reported: set[tuple[str, str]] = set()
    for run_target, records in sorted(view.runs_by_machine.items()):
        for record in sorted(records, key=lambda r: str(r.properties.get("startDateTime") or ""), reverse=True):
            props = record.properties
            started = time_of(props.get("startDateTime") or props.get("lastUpdateTime"))
            config = view.configuration(str(props.get("maintenanceConfigurationId") or ""))
            if started is None or started < since or config is None or not config.active(view.now):
                continue
            if config.resource.key in dynamic_configs:
                continue
            machine = _machine_of(view, run_target, props.get("startDateTime"))
            if machine is None or (machine.key, config.resource.key) in reported:
                continue
            created = time_of(machine.properties.get("timeCreated"))
            if created is not None and started < created:
                continue  # an earlier machine with this id ran it: recreated-machine's
            moved_with_trace = machine.key != run_target and view.static_by_target.get(run_target)
            if moved_with_trace or any(
                a.configuration.resource.key == config.resource.key for a in view.attachments(machine)
            ):
                continue  # still attached, or a stale assignment shows it (maintenance-moved-resource)
            reported.add((machine.key, config.resource.key))
            yield _finding(ctx, machine, config.resource, started.isoformat(), run_target)


def _finding(ctx: Context, machine: Resource, config: Resource, started: str, run_target: str) -> Finding:
    moved = machine.key != run_target.lower()
    state = power_state(machine)
    policy = _policy_reports(ctx, machine)
    why = (
        f"it ran under {config.name} on {started}"
        + (f" as {run_target} and has since moved to {machine.id}" if moved else "")
        + f", and no assignment attaches it to {config.name} now, so that schedule no longer patches it."
    )
    if state not in RUNNING:
        why += f" It is {state}: shut-down machines can lose their maintenance configurations; keep it running "
        why += "at least 15 minutes before the window."
    if policy:
        how = " The scheduling policy reports it non-compliant: policy-remediation's remediation task re-attaches it."
    else:
        how = f" The fix (opt-in) assigns {config.name} to it again; if it was taken out on purpose, exclude it."
    return Finding(
        playbook=PLAYBOOK_ID,
        resource_id=machine.id,
        severity="high",
        title=f"{machine.name} lost its schedule {config.name}",
        detail=f"{machine.name}: {why}{how}",
        doc=MOVED_DOC if moved else SHUT_DOWN_DOC,
        fixable=not policy,
        key=config.key,
        data={
            "maintenance_configuration_id": config.id,
            "last_run": started,
            "previous_resource_id": run_target,
            "location": machine.location,
            "name": config.name,
        },
    )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    if not finding.fixable:
        return
    config_id = str(finding.data["maintenance_configuration_id"])
    yield Change(
        finding_id=finding.id,
        playbook=PLAYBOOK_ID,
        resource_id=assignment_id_for(finding.resource_id, str(finding.data["name"])),
        action="create-configuration-assignment",
        before={"maintenanceConfigurationId": None},
        after={"maintenanceConfigurationId": config_id},
        params={"resourceId": finding.resource_id, "location": str(finding.data.get("location") or "")},
        order=10,
    )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Machines that ran under a schedule and lost it without a trace",
        doc=SHUT_DOWN_DOC,
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=MAINTENANCE_RESOURCE_TYPES, policy_states=True),
        permissions=("Microsoft.Maintenance/configurationAssignments/write",),
        read_permissions=("Microsoft.Maintenance/applyUpdates/read",),
        fix_default=False,
        phase=30,
        options_schema=options_schema(history_days={"type": "number", "exclusiveMinimum": 0}),
    )
)
