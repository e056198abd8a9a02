"""Shared by the maintenance playbooks: which machines each maintenance configuration schedules.

Reads the `Estate` only. A machine is scheduled by a configuration through a static assignment
(``<machine id>/providers/Microsoft.Maintenance/configurationAssignments/<name>``) or through a
dynamic scope (an assignment at subscription or resource-group scope whose ``filter`` selects
machines by resource type, resource group, OS type, location and tags).

The dynamic-scope filter is evaluated here for the bot; the emulator has its own, independent
evaluation on purpose, so the tests catch a wrong reading of the filter's semantics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from remediator import Context, Estate, Resource, parse_resource_id
from remediator.schedule import MaintenanceWindow, ScheduleError, Window, next_window, parse_window

from .._shared import time_of

VM_TYPE = "microsoft.compute/virtualmachines"
ARC_TYPE = "microsoft.hybridcompute/machines"
MACHINE_TYPES = (VM_TYPE, ARC_TYPE)
CONFIGURATION_TYPE = "microsoft.maintenance/maintenanceconfigurations"
ASSIGNMENT_TYPE = "microsoft.maintenance/configurationassignments"
APPLY_UPDATE_TYPE = "microsoft.maintenance/applyupdates"
INSTALLATION_RESULT_TYPES = (
    "microsoft.compute/virtualmachines/patchinstallationresults",
    "microsoft.hybridcompute/machines/patchinstallationresults",
)
ASSIGNMENT_SEGMENT = "/providers/microsoft.maintenance/configurationassignments/"
MAINTENANCE_RESOURCE_TYPES = frozenset(
    {*MACHINE_TYPES, CONFIGURATION_TYPE, ASSIGNMENT_TYPE, APPLY_UPDATE_TYPE, *INSTALLATION_RESULT_TYPES}
)
COMPUTE_API_VERSION = "2024-07-01"


def dig(obj: Any, *path: str) -> Any:
    """``obj[p0][p1]...`` through mappings, None as soon as a step is missing."""
    for step in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(step)
    return obj


def assignment_target(assignment_id: str) -> str:
    """The scope an assignment id hangs under (a machine, a resource group, a subscription).

    >>> assignment_target("/subscriptions/S/providers/Microsoft.Maintenance/configurationAssignments/a")
    '/subscriptions/S'
    """
    lowered = assignment_id.lower()
    cut = lowered.rfind(ASSIGNMENT_SEGMENT)
    return assignment_id[:cut] if cut >= 0 else ""


def resource_type_of(resource_id: str) -> str:
    return parse_resource_id(resource_id).get("type", "").lower()


def is_group_or_subscription(scope: str) -> bool:
    parts = [p for p in scope.split("/") if p]
    return (len(parts) == 2 and parts[0].lower() == "subscriptions") or (
        len(parts) == 4 and parts[0].lower() == "subscriptions" and parts[2].lower() == "resourcegroups"
    )


def location_key(location: str) -> str:
    """ARM names a region both ``japaneast`` and ``Japan East``: compare without case or spaces."""
    return location.replace(" ", "").lower()


# --- machines --------------------------------------------------------------------------------


def os_type(machine: Resource) -> str:
    """``Windows``, ``Linux`` or "" for a VM or an Arc machine."""
    props = machine.properties
    raw = dig(props, "storageProfile", "osDisk", "osType") or props.get("osType") or props.get("osName")
    if not raw:
        if dig(props, "osProfile", "windowsConfiguration") is not None:
            raw = "Windows"
        elif dig(props, "osProfile", "linuxConfiguration") is not None:
            raw = "Linux"
    text = str(raw or "").lower()
    return "Windows" if text.startswith("windows") else "Linux" if text.startswith("linux") else ""


def power_state(machine: Resource) -> str:
    """``running``, ``deallocated``, ``stopped``, ... for a VM; the agent status for an Arc machine."""
    if machine.type_key == ARC_TYPE:
        return str(machine.properties.get("status") or "").lower()
    code = dig(machine.properties, "extended", "instanceView", "powerState", "code")
    if not code:
        statuses = dig(machine.properties, "instanceView", "statuses") or []
        code = next((s.get("code") for s in statuses if str(s.get("code", "")).lower().startswith("powerstate/")), "")
    return str(code or "").split("/")[-1].lower()


def machines(estate: Estate) -> tuple[Resource, ...]:
    return estate.of_type(*MACHINE_TYPES)


# --- configurations and assignments -----------------------------------------------------------


@dataclass(frozen=True)
class Configuration:
    resource: Resource
    window: MaintenanceWindow | None
    error: str = ""

    @property
    def id(self) -> str:
        return self.resource.id

    @property
    def scope(self) -> str:
        return str(self.resource.properties.get("maintenanceScope") or "")

    @property
    def in_guest_patch(self) -> bool:
        return self.scope.lower() == "inguestpatch"

    def active(self, now: datetime) -> bool:
        """An InGuestPatch schedule that can still open a window."""
        return self.in_guest_patch and self.window is not None and not self.window.expired(now)

    def next_window(self, now: datetime, horizon: timedelta) -> Window | None:
        return next_window(self.window, now, horizon) if self.window else None


def configurations(estate: Estate) -> dict[str, Configuration]:
    out: dict[str, Configuration] = {}
    for res in estate.of_type(CONFIGURATION_TYPE):
        found = configuration_of(estate, res.id)
        if found is not None:
            out[res.key] = found
    return out


@dataclass(frozen=True)
class Assignment:
    resource: Resource
    configuration_id: str
    target: str  # a machine id (static) or a subscription / resource group (dynamic scope)
    filter: Mapping[str, Any]

    @property
    def id(self) -> str:
        return self.resource.id

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def dynamic(self) -> bool:
        return is_group_or_subscription(self.target)


def assignments(estate: Estate) -> tuple[Assignment, ...]:
    out: list[Assignment] = []
    for res in estate.of_type(ASSIGNMENT_TYPE):
        target = str(res.properties.get("resourceId") or assignment_target(res.id))
        config_id = str(res.properties.get("maintenanceConfigurationId") or "")
        if config_id:
            out.append(Assignment(res, config_id, target, res.properties.get("filter") or {}))
    return tuple(out)


def exclusion(scope: Assignment, machine: Resource) -> str:
    """Why a dynamic scope does not select ``machine`` ("" when it does).

    A filter field that is absent or empty does not narrow the scope; tag values are matched
    exactly, and a tag listed with no values matches any value of that tag.
    """
    target = scope.target.rstrip("/").lower() + "/"
    if not machine.key.startswith(target):
        return f"the scope is {scope.target}"
    flt = scope.filter
    types = [str(t).lower() for t in flt.get("resourceTypes") or []] or list(MACHINE_TYPES)
    if machine.type_key not in types:
        return f"resourceTypes {flt.get('resourceTypes')} excludes {machine.type}"
    groups = [str(g).lower() for g in flt.get("resourceGroups") or []]
    if groups and machine.resource_group.lower() not in groups:
        return f"resourceGroups {flt.get('resourceGroups')} excludes resource group {machine.resource_group}"
    locations = [location_key(str(loc)) for loc in flt.get("locations") or []]
    if locations and location_key(machine.location) not in locations:
        return f"locations {flt.get('locations')} excludes {machine.location}"
    os_types = [str(o).lower() for o in flt.get("osTypes") or []]
    if os_types and os_type(machine).lower() not in os_types:
        return f"osTypes {flt.get('osTypes')} excludes {os_type(machine) or 'an unknown OS'}"
    return _tag_exclusion(dig(flt, "tagSettings") or {}, machine.tags)


def _tag_exclusion(settings: Mapping[str, Any], tags: Mapping[str, str]) -> str:
    wanted: Mapping[str, Sequence[str]] = settings.get("tags") or {}
    if not wanted:
        return ""
    lowered = {k.lower(): v for k, v in tags.items()}

    def has(name: str, values: Sequence[str]) -> bool:
        if name.lower() not in lowered:
            return False
        return not values or lowered[name.lower()] in values

    hits = [has(name, values) for name, values in wanted.items()]
    operator = str(settings.get("filterOperator") or "Any")
    if operator.lower() == "all" and not all(hits):
        return f"tagSettings (All) {dict(wanted)} excludes tags {dict(tags)}"
    if operator.lower() != "all" and not any(hits):
        return f"tagSettings (Any) {dict(wanted)} excludes tags {dict(tags)}"
    return ""


@dataclass(frozen=True)
class Attachment:
    """One machine under one configuration, and the assignment that puts it there."""

    machine: Resource
    configuration: Configuration
    assignment: Assignment
    # Not attached yet, but the moved-machine or re-created-machine fix is about to attach it.
    intended: bool = False

    def describe(self) -> str:
        how = f"dynamic scope {self.assignment.name}" if self.assignment.dynamic else "assigned"
        if self.intended:
            how = "to be re-attached"
        return f"{self.configuration.resource.name} ({how})"


def earlier_runs(records: Iterable[Resource], created: datetime) -> dict[str, Resource]:
    """Configuration id (lowercase) -> the latest of a machine's ``applyupdates`` records before ``created``.

    Runs before the machine's ``timeCreated`` belonged to an earlier machine with the same id.
    """
    runs: dict[str, tuple[datetime, Resource]] = {}
    for record in records:
        props = record.properties
        started = time_of(props.get("startDateTime") or props.get("lastUpdateTime"))
        config_id = str(props.get("maintenanceConfigurationId") or "").lower()
        if started is None or started >= created or not config_id:
            continue
        if config_id not in runs or runs[config_id][0] < started:
            runs[config_id] = (started, record)
    return {config_id: record for config_id, (_, record) in runs.items()}


def configuration_of(estate: Estate, configuration_id: str) -> Configuration | None:
    """One configuration, parsed (for ``plan``, which sees one finding at a time)."""
    resource = estate.get(configuration_id)
    if resource is None or resource.type_key != CONFIGURATION_TYPE:
        return None
    window_obj = resource.properties.get("maintenanceWindow")
    try:
        return Configuration(resource, parse_window(window_obj) if isinstance(window_obj, Mapping) else None)
    except ScheduleError as exc:
        return Configuration(resource, None, str(exc))


class MaintenanceView:
    """The estate's schedules indexed for the playbooks: built once per detect."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.now = estate.now
        self.configurations = configurations(estate)
        self.assignments = assignments(estate)
        self.static_by_target: dict[str, list[Assignment]] = {}
        self.dynamic: list[Assignment] = []
        for assignment in self.assignments:
            if assignment.dynamic:
                self.dynamic.append(assignment)
            else:
                self.static_by_target.setdefault(assignment.target.lower(), []).append(assignment)
        self.by_name: dict[tuple[str, str], list[Resource]] = {}
        for machine in machines(estate):
            self.by_name.setdefault((machine.name.lower(), machine.type_key), []).append(machine)
        self._scopes: dict[str, tuple[Assignment, ...]] = {}
        self._next: dict[tuple[str, timedelta], Window | None] = {}
        self.runs_by_machine: dict[str, list[Resource]] = {}
        for record in estate.of_type(APPLY_UPDATE_TYPE):
            machine_id = str(record.properties.get("resourceId") or "").lower()
            self.runs_by_machine.setdefault(machine_id, []).append(record)
        self.intended: dict[str, list[Assignment]] = {}
        for target, stale in self.static_by_target.items():
            if estate.get(target) is not None:
                continue
            name, type_ = target.rsplit("/", 1)[-1], resource_type_of(target)
            moved = self.by_name.get((name, type_), [])
            if len(moved) == 1:
                self.intended.setdefault(moved[0].key, []).extend(stale)

    def configuration(self, configuration_id: str) -> Configuration | None:
        return self.configurations.get(configuration_id.lower())

    def scopes_of(self, machine: Resource) -> tuple[Assignment, ...]:
        """The dynamic scopes that select ``machine`` (memoised: every playbook asks for every machine)."""
        found = self._scopes.get(machine.key)
        if found is None:
            found = tuple(d for d in self.dynamic if not exclusion(d, machine))
            self._scopes[machine.key] = found
        return found

    def next_window(self, config: Configuration, span: timedelta) -> Window | None:
        """The configuration's next window within ``span`` of now (memoised per configuration)."""
        key = (config.resource.key, span)
        if key not in self._next:
            self._next[key] = config.next_window(self.now, span)
        return self._next[key]

    def earlier_runs(self, machine: Resource, created: datetime) -> dict[str, Resource]:
        return earlier_runs(self.runs_by_machine.get(machine.key, ()), created)

    def attachments(self, machine: Resource, *, intended: bool = False) -> list[Attachment]:
        """Every (configuration, assignment) that schedules ``machine``; unknown configurations skipped.

        ``intended`` adds what the moved-machine and re-created-machine fixes will attach (a stale
        assignment of a machine that moved here; a configuration an earlier machine with this id
        ran under), so the other playbooks judge the machine as it will be after this run.
        """
        found: list[Attachment] = []
        candidates: Iterable[Assignment] = [*self.static_by_target.get(machine.key, ()), *self.scopes_of(machine)]
        for assignment in candidates:
            config = self.configuration(assignment.configuration_id)
            if config is not None:
                found.append(Attachment(machine, config, assignment))
        if intended:
            found.extend(self._intended(machine, {a.configuration.resource.key for a in found}))
        return found

    def _intended(self, machine: Resource, attached: set[str]) -> Iterable[Attachment]:
        pending = list(self.intended.get(machine.key, ()))
        created = time_of(machine.properties.get("timeCreated"))
        if created is not None:
            for config_id, record in self.earlier_runs(machine, created).items():
                pending.append(Assignment(record, config_id, machine.id, {}))
        for assignment in pending:
            config = self.configuration(assignment.configuration_id)
            if config is not None and config.resource.key not in attached:
                attached.add(config.resource.key)
                yield Attachment(machine, config, assignment, intended=True)

    def active_attachments(self, machine: Resource, *, intended: bool = True) -> list[Attachment]:
        """Attachments to InGuestPatch configurations that have not expired, one per configuration."""
        seen: set[str] = set()
        out: list[Attachment] = []
        for attachment in self.attachments(machine, intended=intended):
            key = attachment.configuration.resource.key
            if attachment.configuration.active(self.now) and key not in seen:
                seen.add(key)
                out.append(attachment)
        return out

    def scheduled_machines(self) -> Iterable[tuple[Resource, list[Attachment]]]:
        for machine in machines(self.estate):
            attached = self.active_attachments(machine)
            if attached:
                yield machine, attached


def view_of(ctx: Context) -> MaintenanceView:
    """The view of the context's estate, built once for all the maintenance playbooks of a run.

    It lives in the engine's per-estate memo, so it dies with the estate (no module-level state).
    """
    return ctx.memo("maintenance-view", lambda: MaintenanceView(ctx.estate))


def horizon(options: Mapping[str, Any]) -> timedelta:
    return timedelta(hours=float(options.get("horizon_hours", 24)))


def assignment_id_for(machine_id: str, name: str) -> str:
    return f"{machine_id}/providers/Microsoft.Maintenance/configurationAssignments/{name}"


HORIZON_OPTION = MappingProxyType({"type": "number", "exclusiveMinimum": 0})


def options_schema(**properties: Any) -> dict[str, Any]:
    """A playbook's options JSON schema: ``horizon_hours`` plus its own."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {"horizon_hours": HORIZON_OPTION, **properties},
    }
