"""Synthetic estates: many machines across subscriptions, healthy ones and broken ones for every
playbook of DESIGN.md 3.4, reproducible from a seed.

Layout: subscriptions alternate between Azure-VM ones and Arc ones (the first Arc subscription
has Microsoft.Compute NotRegistered, the second Registering); with four or more, the last is a
sandbox with no machines and Microsoft.Compute NotRegistered (to be left alone). Two management
groups (prod / nonprod) sit under a root group. Each subscription has maintenance
configurations (nightly, an overlapping hotfix window, a weekly one and a too-short one), a
dynamic scope for tag ``role=web``, the AUM policy assignments with system identities (every
third subscription's VM assignment only holds the pre-v4.7 Virtual Machine Contributor role),
and one policy state per machine. Each machine gets a condition drawn with fixed weights.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from remediator.emulator import generate_shapes as shape

NOW = datetime.fromisoformat("2026-11-26T09:00:00+00:00")
LOCATIONS = ("westeurope", "northeurope", "eastus", "japaneast")
MACHINES_PER_GROUP = 500

VM_ASSESSMENT = "59efceea-0c96-497e-a4a1-4eb2290dac15"
ARC_ASSESSMENT = "bfea026e-043f-4ff4-9d1b-bf301ca7ff46"
PREREQUISITES = "9905ca54-1471-49c6-8291-7582c04cd4d4"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
VM_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
ARC_ADMIN = "cd570a14-e51a-42ad-bac8-bafd67325302"

# condition -> weight; every condition except "healthy" is some playbook's finding.
VM_CONDITIONS = {
    "healthy": 50,
    "schedule-prerequisites": 7,
    "patch-orchestration-manual": 2,
    "powered-off": 5,
    "moved": 3,
    "recreated": 2,
    "schedule-conflict": 3,
    "short-window": 3,
    "window-exceeded": 2,
    "extension-failed": 4,
    "extension-operations": 2,
    "assessment-error": 4,
    "policy-restored": 5,
    "policy-gallery": 2,
    "untagged-web": 6,
    "installation-error": 3,
    "stale-assessment": 3,
    "lost-schedule": 2,
    "update-stuck": 1,
}
ARC_CONDITIONS = {
    "healthy": 60,
    "disconnected": 8,
    "extension-failed": 8,
    "extension-operations": 6,
    "assessment-error": 8,
    "policy-noncompliant": 10,
    "stale-assessment": 4,
}
# Healthy mode: every machine is one of these, each a look-alike of a failure that is none.
HEALTHY_CONDITIONS = (
    "healthy",
    "healthy",
    "healthy",
    "healthy",
    "new",  # created an hour ago: never assessed, no extension yet, nothing owed
    "patched",  # its latest installation run Succeeded
    "healed",  # an installation failed a week ago, the run after it Succeeded
)
INSTALLATION_ERRORS = (
    ("InternalError", "Internal execution error"),
    ("PatchOperationFailed", "Exception from HRESULT: 0x8024002E"),
    ("PackageManagerFailure", "E: Failed to fetch https://azure.archive.ubuntu.com/ubuntu/dists/jammy/InRelease"),
    ("ShutdownOrUnresponsive", "The VM is shut down or unresponsive"),
)
ASSESSMENT_ERRORS = (
    ("WindowsUpdateError", "Failed to assess the machine for available updates. HRESULT 0x8024402c"),
    ("PackageManagerFailure", "Customer environment error: sudo: a password is required"),
    ("NetworkError", "Unable to connect to the repository through the proxy: TLS 1.2 handshake failed"),
    ("InternalExecutionError", "Internal execution error while assessing patches"),
)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Generator:
    def __init__(self, seed: int, healthy: bool = False) -> None:
        self.healthy = healthy
        self.rng = random.Random(seed)
        self.tenant = self.guid()
        self.resources: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def pick(self, weights: dict[str, int]) -> str:
        if self.healthy:
            return HEALTHY_CONDITIONS[self.rng.randrange(len(HEALTHY_CONDITIONS))]
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def add(self, *resources: dict[str, Any]) -> None:
        self.resources.extend(resources)


def _kinds(subscriptions: int) -> list[str]:
    kinds = ["vms" if i % 2 == 0 else "arc" for i in range(subscriptions)]
    if subscriptions >= 4:
        kinds[-1] = "sandbox"
    return kinds


def _split(total: int, parts: int) -> Iterator[int]:
    for index in range(parts):
        yield total // parts + (1 if index < total % parts else 0)


GENERATED_ROLE_PROPAGATION_SECONDS = 3.0


def generate_estate(*, machines: int, subscriptions: int, seed: int = 0, healthy: bool = False) -> dict[str, Any]:
    """An estate dict (DESIGN.md 3.3) with ``machines`` machines in ``subscriptions`` subscriptions.

    ``healthy``: nothing any playbook should flag — providers registered, policy identities with
    today's roles, only valid non-overlapping schedules, compliant policy, recent assessments and
    Succeeded installations, extensions Succeeded where Azure has installed them — with the
    look-alikes of failures mixed in (`HEALTHY_CONDITIONS`).
    """
    gen = _Generator(seed, healthy)
    kinds = _kinds(subscriptions)
    sub_ids = [gen.guid() for _ in kinds]
    subs: list[dict[str, Any]] = []
    arc_seen = 0
    for index, (sub, kind) in enumerate(zip(sub_ids, kinds, strict=True)):
        entry: dict[str, Any] = {"subscriptionId": sub, "displayName": f"{kind}-{index:02d}", "state": "Enabled"}
        if kind == "arc":
            state = ("NotRegistered", "Registering")[arc_seen] if arc_seen < 2 and not healthy else None
            arc_seen += 1
            if state:
                entry["providers"] = {"Microsoft.Compute": state}
        elif kind == "sandbox":
            entry["providers"] = {"Microsoft.Compute": "NotRegistered"}
        subs.append(entry)
    _management_groups(gen, sub_ids)
    machine_subs = [i for i, kind in enumerate(kinds) if kind != "sandbox"] or [0]
    for index, count in zip(machine_subs, _split(machines, len(machine_subs)), strict=True):
        _subscription(gen, sub_ids[index], kinds[index] if kinds[index] != "sandbox" else "vms", index, count)
    for index, kind in enumerate(kinds):
        if kind == "sandbox":
            gen.add(shape.group(sub_ids[index], "rg-sandbox", "westeurope"))
    return {
        "now": _iso(NOW),
        "tenantId": gen.tenant,
        "subscriptions": subs,
        "resources": gen.resources,
        "policyStates": gen.states,
        # Grants authorize after a few seconds, not Azure's 10 minutes: a whole run on a generated
        # estate still waits out the delay (the bot retries), in seconds rather than minutes.
        "emulator": {"rolePropagationSeconds": GENERATED_ROLE_PROPAGATION_SECONDS},
    }


def _management_groups(gen: _Generator, sub_ids: list[str]) -> None:
    def child(sub: str) -> dict[str, Any]:
        return {"id": f"/subscriptions/{sub}", "type": "/subscriptions", "name": sub}

    mg = "/providers/Microsoft.Management/managementGroups/"
    gen.add(
        shape.management_group(
            "mg-root",
            "Root",
            [
                {"id": mg + "mg-prod", "type": "Microsoft.Management/managementGroups", "name": "mg-prod"},
                {"id": mg + "mg-nonprod", "type": "Microsoft.Management/managementGroups", "name": "mg-nonprod"},
            ],
        ),
        shape.management_group("mg-prod", "Production", [child(s) for s in sub_ids[0::2]]),
        shape.management_group("mg-nonprod", "Non-production", [child(s) for s in sub_ids[1::2]]),
    )


def _subscription(gen: _Generator, sub: str, kind: str, index: int, count: int) -> None:
    location = LOCATIONS[index % len(LOCATIONS)]
    sub_scope = f"/subscriptions/{sub}"
    maint_rg = f"{sub_scope}/resourceGroups/rg-maint"
    gen.add(shape.group(sub, "rg-maint", location), shape.group(sub, "rg-images", location))
    configs = {
        "nightly": shape.configuration(
            maint_rg, "nightly", location, start="2026-01-01 22:00", duration="03:00", zone="UTC", recur="Day"
        ),
        "hotfix": shape.configuration(
            maint_rg, "hotfix", location, start="2026-01-01 22:30", duration="01:30", zone="UTC", recur="Day"
        ),
        "weekly": shape.configuration(
            maint_rg,
            "weekly",
            location,
            start="2026-01-03 20:00",
            duration="02:00",
            zone="Eastern Standard Time",
            recur="Week Saturday",
        ),
        "short": shape.configuration(
            maint_rg,
            "short",
            location,
            start="2026-01-01 05:00",
            duration="01:00",
            zone="Tokyo Standard Time",
            recur="Day",
        ),
    }
    if gen.healthy:
        # Valid schedules only: no window that overlaps nightly, none too short for the reserve.
        del configs["hotfix"], configs["short"]
    else:
        # Saved before the service validated classifications; and a resource-group scope without
        # locations, which the service's validation rejects.
        legacy = shape.configuration(
            maint_rg, "legacy-classes", location, start="2026-01-02 01:00", duration="02:00", zone="UTC", recur="Day"
        )
        legacy["properties"]["installPatches"]["windowsParameters"]["classificationsToInclude"] = [
            "Critical",
            "Securty",
        ]
        configs["legacy-classes"] = legacy
        gen.add(shape.configuration_assignment(maint_rg, legacy, name="rg-scope", filter_={"osTypes": ["Windows"]}))
    gen.add(*configs.values())
    gen.add(
        shape.configuration_assignment(
            sub_scope,
            configs["weekly"],
            name="web-role",
            filter_={
                "resourceTypes": ["microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines"],
                "tagSettings": {"tags": {"role": ["web"]}, "filterOperator": "All"},
            },
        )
    )
    gen.add(*shape.gallery_image(f"{sub_scope}/resourceGroups/rg-images", location))
    vm_principal, arc_principal, prereq_principal = gen.guid(), gen.guid(), gen.guid()
    linux_vm_principal, linux_arc_principal = gen.guid(), gen.guid()
    vm_policy = shape.policy_assignment(
        sub_scope, "aum-vm-assessment", VM_ASSESSMENT, vm_principal, gen.tenant, location
    )
    arc_policy = shape.policy_assignment(
        sub_scope, "aum-arc-assessment", ARC_ASSESSMENT, arc_principal, gen.tenant, location
    )
    linux_vm_policy = shape.policy_assignment(
        sub_scope, "aum-vm-assessment-linux", VM_ASSESSMENT, linux_vm_principal, gen.tenant, location, "Linux"
    )
    linux_arc_policy = shape.policy_assignment(
        sub_scope, "aum-arc-assessment-linux", ARC_ASSESSMENT, linux_arc_principal, gen.tenant, location, "Linux"
    )
    prereq_policy = shape.policy_assignment(
        sub_scope, "aum-prerequisites", PREREQUISITES, prereq_principal, gen.tenant, location
    )
    old_role = (
        VM_CONTRIBUTOR if index % 3 == 2 and not gen.healthy else CONTRIBUTOR
    )  # v4.6.0-era assignment lacks Contributor
    gen.add(
        vm_policy,
        arc_policy,
        prereq_policy,
        shape.role_assignment(sub_scope, _name(sub, vm_principal, old_role), vm_principal, old_role),
        shape.role_assignment(sub_scope, _name(sub, arc_principal, ARC_ADMIN), arc_principal, ARC_ADMIN),
        shape.role_assignment(sub_scope, _name(sub, prereq_principal, CONTRIBUTOR), prereq_principal, CONTRIBUTOR),
        linux_vm_policy,
        linux_arc_policy,
        shape.role_assignment(sub_scope, _name(sub, linux_vm_principal, CONTRIBUTOR), linux_vm_principal, CONTRIBUTOR),
        shape.role_assignment(sub_scope, _name(sub, linux_arc_principal, ARC_ADMIN), linux_arc_principal, ARC_ADMIN),
    )
    context = _Context(gen, sub, location, configs, vm_policy, arc_policy)
    context.linux_vm_policy, context.linux_arc_policy = linux_vm_policy, linux_arc_policy
    for start in range(0, count, MACHINES_PER_GROUP):
        group = f"rg-{'app' if kind == 'vms' else 'arc'}-{start // MACHINES_PER_GROUP:03d}"
        gen.add(shape.group(sub, group, location))
        for number in range(start, min(count, start + MACHINES_PER_GROUP)):
            if kind == "vms":
                _vm(context, f"{sub_scope}/resourceGroups/{group}", f"vm-{index:02d}-{number:06d}")
            else:
                _arc(context, f"{sub_scope}/resourceGroups/{group}", f"arc-{index:02d}-{number:06d}")


def _name(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(p.lower() for p in parts)))


class _Context:
    def __init__(
        self,
        gen: _Generator,
        sub: str,
        location: str,
        configs: dict[str, Any],
        vm_policy: dict[str, Any],
        arc_policy: dict[str, Any],
    ) -> None:
        self.gen, self.sub, self.location, self.configs = gen, sub, location, configs
        self.vm_policy, self.arc_policy = vm_policy, arc_policy
        # Each machine is evaluated by the assignment made for its OS.
        self.linux_vm_policy, self.linux_arc_policy = vm_policy, arc_policy
        self.moved_group_added = False


def _vm(ctx: _Context, rg_id: str, name: str) -> None:
    gen, condition = ctx.gen, ctx.gen.pick(VM_CONDITIONS)
    os = "Windows" if gen.rng.random() < 0.6 else "Linux"
    options: dict[str, Any] = {}
    tags = {"role": "web"} if condition in ("healthy", "schedule-conflict") and gen.rng.random() < 0.2 else {}
    if condition == "schedule-prerequisites":
        options = {"patch_mode": "AutomaticByOS" if os == "Windows" else "ImageDefault", "bypass": None}
    elif condition == "patch-orchestration-manual":
        options = {"patch_mode": "AutomaticByOS", "bypass": None}
        tags = {"aum-patching": "manual"}
        os = "Windows"
    elif condition == "powered-off":
        options = {"power": "deallocated"}
    elif condition == "recreated":
        options = {"time_created": _iso(NOW - timedelta(hours=13))}
    elif condition == "extension-operations":
        options = {"allow_extensions": False}
    elif condition == "policy-restored":
        options = {"os_profile": False, "attach": True}
    elif condition == "new":
        options = {"time_created": _iso(NOW - timedelta(hours=1))}
    elif condition == "policy-gallery":
        gallery = f"/subscriptions/{ctx.sub}/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/golden"
        options = {"os_profile": False, "image_id": f"{gallery}/images/windows-specialized/versions/1.0.0"}
        os = "Windows"
    if condition == "moved":
        rg_id = f"/subscriptions/{ctx.sub}/resourceGroups/rg-moved"
        if not ctx.moved_group_added:
            gen.add(shape.group(ctx.sub, "rg-moved", ctx.location))
            ctx.moved_group_added = True
    machine = shape.vm(rg_id, name, vm_id=gen.guid(), os=os, location=ctx.location, tags=tags, **options)
    gen.add(machine)
    _machine_records(ctx, machine, os, condition)
    compliant = condition not in ("policy-restored", "policy-gallery")
    policy = ctx.vm_policy if os == "Windows" else ctx.linux_vm_policy
    gen.states.append(shape.policy_state(machine["id"], policy, compliant, _iso(NOW - timedelta(hours=2))))


def _arc(ctx: _Context, rg_id: str, name: str) -> None:
    gen, condition = ctx.gen, ctx.gen.pick(ARC_CONDITIONS)
    if condition == "new":
        condition = "healthy"  # Arc machines carry no creation time to tell a new one by
    os = "windows" if gen.rng.random() < 0.5 else "linux"
    machine = shape.arc(
        rg_id,
        name,
        vm_id=gen.guid(),
        os=os,
        location=ctx.location,
        status="Disconnected" if condition == "disconnected" else "Connected",
        assessment_mode="ImageDefault" if condition == "policy-noncompliant" else "AutomaticByPlatform",
        extensions_enabled=condition != "extension-operations",
    )
    gen.add(machine)
    _machine_records(ctx, machine, os, condition)
    compliant = condition != "policy-noncompliant"
    policy = ctx.arc_policy if os == "windows" else ctx.linux_arc_policy
    gen.states.append(shape.policy_state(machine["id"], policy, compliant, _iso(NOW - timedelta(hours=2))))


def _machine_records(ctx: _Context, machine: dict[str, Any], os: str, condition: str) -> None:
    """The extension, assessment, installation and maintenance records a machine carries."""
    gen, configs, machine_id = ctx.gen, ctx.configs, str(machine["id"])
    if condition == "new":
        # Azure installs the extension at the first assessment or patch run: nothing is owed yet.
        gen.add(shape.configuration_assignment(machine_id, configs["nightly"]))
        return
    gen.add(shape.patch_extension(machine, os, "Failed" if condition == "extension-failed" else "Succeeded"))
    when = _iso(NOW - timedelta(hours=gen.rng.randint(1, 20)))
    if condition == "stale-assessment":
        gen.add(shape.assessment(machine, os, _iso(NOW - timedelta(days=3))))
    elif condition == "assessment-error":
        code, message = gen.rng.choice(ASSESSMENT_ERRORS)
        gen.add(
            shape.assessment(
                machine, os, when, status="Failed", errors={"code": code, "message": message, "details": []}
            )
        )
    else:
        gen.add(shape.assessment(machine, os, when))
    if condition in ("disconnected", "untagged-web"):
        return  # not under any schedule
    if gen.healthy and (machine.get("tags") or {}).get("role") == "web":
        return  # scheduled by the role=web dynamic scope alone (weekly would overlap nightly in summer)
    if condition in ("patched", "healed"):
        if machine["type"] == "Microsoft.HybridCompute/machines":
            gen.add(shape.os_update_extension(machine, os))  # installed by the patch runs below
        last = NOW.replace(hour=22) - timedelta(days=1)
        if condition == "healed":
            failed = {"code": "InternalError", "message": "Internal execution error", "details": []}
            gen.add(
                shape.installation(
                    machine, _iso(last - timedelta(days=7)), exceeded=False, status="Failed", errors=failed
                )
            )
        gen.add(shape.installation(machine, _iso(last), exceeded=False, status="Succeeded"))
    if condition == "lost-schedule":
        # It ran under "nightly" three days ago; its assignment is gone without a trace.
        gen.add(shape.apply_update(machine_id, configs["nightly"], _iso(NOW - timedelta(days=3, hours=-13))))
        return
    if condition == "recreated":
        # The previous instance ran under "nightly"; the re-creation dropped its assignment.
        gen.add(shape.apply_update(machine_id, configs["nightly"], _iso(NOW - timedelta(days=6))))
        return
    if condition == "moved":
        old_group = machine_id.replace("/resourceGroups/rg-moved/", "/resourceGroups/rg-app-000/")
        gen.add(shape.configuration_assignment(old_group, configs["nightly"]))
        return
    config = configs["short" if condition == "short-window" else "nightly"]
    gen.add(shape.configuration_assignment(machine_id, config))
    if condition == "schedule-conflict":
        gen.add(shape.configuration_assignment(machine_id, configs["hotfix"]))
    if condition == "installation-error":
        code, message = gen.rng.choice(INSTALLATION_ERRORS)
        run = _iso(NOW - timedelta(hours=11))
        errors = {"code": code, "message": message, "details": []}
        gen.add(shape.installation(machine, run, exceeded=False, status="Failed", errors=errors))
    if condition == "update-stuck":
        stuck = shape.apply_update(machine_id, config, _iso(NOW - timedelta(days=2, hours=-13)))
        stuck["properties"]["status"] = "InProgress"
        gen.add(stuck)
    if condition == "window-exceeded":
        run = _iso(NOW - timedelta(days=1, hours=10))
        gen.add(shape.apply_update(machine_id, config, run))
        gen.add(shape.installation(machine, run, exceeded=True, status="Failed"))
