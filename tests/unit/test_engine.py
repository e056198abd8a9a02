"""Engine semantics over an in-memory backend: ordering, staleness, noop, failures, guardrails.

The playbook tests go through the emulator; these pin the engine's own rules, which do not
depend on what holds the tenant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from remediator import Change, Context, Estate, Finding, Needs, Playbook, Resource, Scope
from remediator.engine import Engine, Guardrails, PlaybookRun
from remediator.errors import ArmOperationError

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)
SUB = "/subscriptions/11111111-1111-1111-1111-111111111111"


class MemoryBackend:
    """Holds resource fields in a dict; `execute` copies `after` in unless told to fail."""

    def __init__(self, resources: Iterable[Resource], state: dict[str, dict[str, Any]]) -> None:
        self.resources = tuple(resources)
        self.state = state
        self.fail: dict[str, ArmOperationError | Exception] = {}
        self.executed: list[str] = []
        self.settled: list[list[str]] = []

    def read_estate(self, scope: Scope, needs: Needs, now: datetime | None) -> Estate:
        # What the tenant holds now: the resources with the fields the changes wrote.
        current = tuple(
            Resource.from_arm({**r.raw, "properties": {**r.properties, **self.state.get(r.key, {})}})
            for r in self.resources
        )
        return Estate(now=now or NOW, resources=current)

    def read_state(self, change: Change) -> Mapping[str, Any]:
        held = self.state.get(change.resource_id.lower(), {})
        return {k: held.get(k) for k in change.before}

    def execute(self, change: Change) -> str:
        self.executed.append(change.id)
        if change.resource_id.lower() in self.fail:
            raise self.fail[change.resource_id.lower()]
        self.state.setdefault(change.resource_id.lower(), {}).update(change.after)
        return "done"

    def settle(self, applied: Sequence[Change]) -> str:
        self.settled.append([c.id for c in applied])
        return ""

    def close(self) -> None:
        pass


def _vm(name: str, mode: str, tags: Mapping[str, str] | None = None) -> Resource:
    return Resource.from_arm(
        {
            "id": f"{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{name}",
            "type": "Microsoft.Compute/virtualMachines",
            "tags": dict(tags or {}),
            "properties": {"patchMode": mode},
        }
    )


def _detect(ctx: Context) -> Iterable[Finding]:
    for vm in ctx.estate.of_type("microsoft.compute/virtualmachines"):
        if vm.properties["patchMode"] != "AutomaticByPlatform":
            yield Finding("set-mode", vm.id, "high", "wrong mode", "d", "doc#x", fixable=True)


def _plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    vm = ctx.estate.get(finding.resource_id)
    assert vm is not None
    yield Change(
        finding.id,
        "set-mode",
        vm.id,
        "patch",
        before={"patchMode": vm.properties["patchMode"]},
        after={"patchMode": "AutomaticByPlatform"},
    )


PLAYBOOK = Playbook(id="set-mode", title="t", doc="doc#x", severity="high", detect=_detect, plan=_plan)


def _setup(*vms: Resource) -> tuple[MemoryBackend, Engine]:
    state = {vm.key: dict(vm.properties) for vm in vms}
    backend = MemoryBackend(vms, state)
    return backend, Engine(backend, [PlaybookRun(PLAYBOOK)])


def test_apply_then_plan_again_is_clean() -> None:
    backend, engine = _setup(_vm("a", "Manual"), _vm("b", "AutomaticByPlatform"))
    plan = engine.plan(Scope()).plan
    assert [c.resource_id.rsplit("/", 1)[1] for c in plan.changes] == ["a"]
    applied = engine.apply(plan)
    assert [o.status for o in applied.outcomes] == ["applied"]
    backend.resources = tuple(
        Resource.from_arm({**r.raw, "properties": backend.state[r.key]}) for r in backend.resources
    )
    assert engine.plan(Scope()).plan.changes == ()


def test_a_target_that_moved_since_planning_is_stale_and_untouched() -> None:
    backend, engine = _setup(_vm("a", "Manual"))
    plan = engine.plan(Scope()).plan
    backend.state[plan.changes[0].resource_id.lower()]["patchMode"] = "AutomaticByOS"
    outcome = engine.apply(plan).outcomes[0]
    assert outcome.status == "stale"
    assert backend.executed == []


def test_a_target_already_fixed_is_a_noop() -> None:
    backend, engine = _setup(_vm("a", "Manual"))
    plan = engine.plan(Scope()).plan
    backend.state[plan.changes[0].resource_id.lower()]["patchMode"] = "AutomaticByPlatform"
    assert engine.apply(plan).outcomes[0].status == "noop"
    assert backend.executed == []


def test_an_arm_refusal_fails_that_change_only_with_its_code() -> None:
    backend, engine = _setup(_vm("a", "Manual"), _vm("b", "Manual"))
    plan = engine.plan(Scope()).plan
    backend.fail[plan.changes[0].resource_id.lower()] = ArmOperationError("AuthorizationFailed", "no")
    outcomes = {o.change_id: o for o in engine.apply(plan).outcomes}
    first, second = (outcomes[c.id] for c in plan.changes)
    assert first.status == "failed" and first.error is not None and first.error.code == "AuthorizationFailed"
    assert second.status == "applied"


def test_dependent_change_is_skipped_when_its_dependency_fails() -> None:
    vm = _vm("a", "Manual")
    backend = MemoryBackend([vm], {vm.key: {"x": 1}, "/other": {"y": 1}})
    create = Change("f-1", "p", vm.id, "create", before={"x": 1}, after={"x": 2}, order=10)
    delete = Change(
        "f-1", "p", "/other", "delete", before={"y": 1}, after={"y": None}, order=20, depends_on=(create.id,)
    )
    backend.fail[vm.key] = ArmOperationError("Conflict", "busy")
    from remediator.model import Plan

    plan = Plan(generated_at=NOW, dry_run=False, scope={}, findings=(), changes=(delete, create))
    outcomes = {o.change_id: o.status for o in Engine(backend, []).apply(plan).outcomes}
    assert outcomes == {create.id: "failed", delete.id: "skipped"}
    assert backend.state["/other"] == {"y": 1}


def test_guardrails_trim_and_exclude() -> None:
    vms = [_vm(f"vm{i}", "Manual") for i in range(5)] + [_vm("keep-out", "Manual", {"AUM-Remediator": "Ignore"})]
    backend = MemoryBackend(vms, {vm.key: dict(vm.properties) for vm in vms})
    engine = Engine(backend, [PlaybookRun(PLAYBOOK)], Guardrails(max_changes=3, exclude=("*/vm4",)))
    result = engine.plan(Scope())
    assert len(result.plan.findings) == 4  # vm4 excluded by pattern, keep-out by tag
    assert len(result.plan.changes) == 3
    assert result.notes and "max_changes=3" in result.notes[0]


def test_opt_in_fix_stays_out_of_the_plan_and_says_how_to_enable() -> None:
    backend, _ = _setup(_vm("a", "Manual"))
    opt_in = Playbook(id="set-mode", title="t", doc="d", severity="low", detect=_detect, plan=_plan, fix_default=False)
    result = Engine(backend, [PlaybookRun(opt_in)]).plan(Scope())
    assert result.plan.changes == ()
    assert "playbooks.set-mode.fix: true" in result.plan.findings[0].detail
    enabled = Engine(backend, [PlaybookRun(opt_in, fix_enabled=True)]).plan(Scope())
    assert len(enabled.plan.changes) == 1


def test_a_playbook_that_raises_is_reported_and_the_others_run() -> None:
    def broken(ctx: Context) -> Iterable[Finding]:
        raise KeyError("properties")

    backend, _ = _setup(_vm("a", "Manual"))
    bad = Playbook(id="broken", title="t", doc="d", severity="low", detect=broken)
    result = Engine(backend, [PlaybookRun(bad), PlaybookRun(PLAYBOOK)]).plan(Scope())
    assert len(result.plan.changes) == 1
    assert result.errors == ("playbook broken: detect failed: KeyError: 'properties'",)


def test_trimming_keeps_whole_findings_with_their_dependencies() -> None:
    big = [Change("f-big", "p", f"/r/big{i}", "create", {"x": 1}, {"x": 2}, order=10) for i in range(3)]
    create = Change("f-move", "p", "/r/new", "create", {"x": None}, {"x": 1}, order=30)
    delete = Change("f-move", "p", "/r/old", "delete", {"x": 1}, {"x": None}, order=40, depends_on=(create.id,))
    from remediator.engine import _trim

    assert {c.id for c in _trim([*big, create, delete], 2)} == {create.id, delete.id}
    assert {c.id for c in _trim([*big, create, delete], 4)} == {c.id for c in big}
    assert len(_trim([*big, create, delete], 5)) == 5


def test_playbooks_see_the_runs_exclusions() -> None:
    seen: list[bool] = []

    def detect(ctx: Context) -> Iterable[Finding]:
        seen.extend(ctx.excluded(vm.id) for vm in ctx.estate.of_type("microsoft.compute/virtualmachines"))
        return ()

    backend, _ = _setup(_vm("a", "Manual"), _vm("b", "Manual", {"aum-remediator": "ignore"}), _vm("c", "Manual"))
    probe = Playbook(id="probe", title="t", doc="d", severity="low", detect=detect)
    Engine(backend, [PlaybookRun(probe)], Guardrails(exclude=("*/virtualmachines/c",))).plan(Scope())
    assert seen == [False, True, True]


def test_run_converges_when_one_fix_reveals_the_next_and_stops_when_nothing_is_new() -> None:
    def detect_step(ctx: Context) -> Iterable[Finding]:
        for vm in ctx.estate.of_type("microsoft.compute/virtualmachines"):
            if vm.properties["patchMode"] == "AutomaticByOS":
                yield Finding("step-two", vm.id, "high", "second step", "d", "doc#y", fixable=True)

    def plan_step(ctx: Context, finding: Finding) -> Iterable[Change]:
        yield Change(
            finding.id,
            "step-two",
            finding.resource_id,
            "patch",
            {"patchMode": "AutomaticByOS"},
            {"patchMode": "AutomaticByPlatform"},
        )

    def plan_first(ctx: Context, finding: Finding) -> Iterable[Change]:
        yield Change(
            finding.id,
            "set-mode",
            finding.resource_id,
            "patch",
            {"patchMode": "Manual"},
            {"patchMode": "AutomaticByOS"},
        )

    def detect_first(ctx: Context) -> Iterable[Finding]:
        for vm in ctx.estate.of_type("microsoft.compute/virtualmachines"):
            if vm.properties["patchMode"] == "Manual":
                yield Finding("set-mode", vm.id, "high", "first step", "d", "doc#x", fixable=True)

    first = Playbook(id="set-mode", title="t", doc="d", severity="high", detect=detect_first, plan=plan_first)
    second = Playbook(id="step-two", title="t", doc="d", severity="high", detect=detect_step, plan=plan_step)
    backend, _ = _setup(_vm("a", "Manual"))
    engine = Engine(backend, [PlaybookRun(first), PlaybookRun(second)])
    one_round = engine.run(Scope(), rounds=1).plan
    assert [c.playbook for c in one_round.changes] == ["set-mode"]
    assert one_round.replan is not None and [c.playbook for c in one_round.replan.changes] == ["step-two"]

    backend, _ = _setup(_vm("b", "Manual"))
    result = Engine(backend, [PlaybookRun(first), PlaybookRun(second)]).run(Scope(), rounds=3)
    assert [c.playbook for c in result.plan.changes] == ["set-mode", "step-two"]
    assert {o.status for o in result.plan.outcomes} == {"applied"}
    assert result.plan.replan is not None and result.plan.replan.changes == ()
    assert any("round 2" in n for n in result.notes)

    # A change that keeps failing is tried once per run, not once per round.
    backend, _ = _setup(_vm("c", "Manual"))
    backend.fail[_vm("c", "Manual").key] = ArmOperationError("Conflict", "busy")
    failing = Engine(backend, [PlaybookRun(first)]).run(Scope(), rounds=3)
    assert len(backend.executed) == 1
    assert [o.status for o in failing.plan.outcomes] == ["failed"]


class LaggingBackend(MemoryBackend):
    """Resource Graph behind ARM: the estate still shows what the resources held before the run."""

    def read_estate(self, scope: Scope, needs: Needs, now: datetime | None) -> Estate:
        return Estate(now=now or NOW, resources=self.resources)


def test_changes_done_in_this_run_are_not_pending_while_resource_graph_catches_up() -> None:
    vm = _vm("a", "Manual")
    backend = LaggingBackend([vm], {vm.key: dict(vm.properties)})
    result = Engine(backend, [PlaybookRun(PLAYBOOK)]).run(Scope(), rounds=3)
    assert [o.status for o in result.plan.outcomes] == ["applied"]
    assert backend.state[vm.key]["patchMode"] == "AutomaticByPlatform"
    assert result.plan.replan is not None and result.plan.replan.changes == ()
    assert any("lags ARM" in n for n in result.notes)
    assert len(backend.executed) == 1


def test_exclusions_cover_what_sits_under_an_excluded_resource() -> None:
    tagged = _vm("tagged", "Manual", {"aum-remediator": "ignore"})
    plain = _vm("plain", "Manual")
    group = Resource.from_arm(
        {"id": f"{SUB}/resourceGroups/legacy", "type": "Microsoft.Resources/resourceGroups", "tags": {}}
    )
    backend = MemoryBackend([tagged, plain, group], {})
    engine = Engine(backend, [], Guardrails(exclude=(f"{SUB}/resourcegroups/legacy",)))
    estate = backend.read_estate(Scope(), Needs(), None)
    child = f"{tagged.id}/providers/Microsoft.Maintenance/configurationAssignments/nightly"
    assert engine._excluded(estate, child)
    assert not engine._excluded(estate, f"{plain.id}/providers/Microsoft.Maintenance/configurationAssignments/x")
    assert engine._excluded(estate, f"{SUB}/resourceGroups/legacy/providers/Microsoft.Compute/virtualMachines/old")


def test_the_backend_settles_after_each_group_that_applied_something() -> None:
    vm = _vm("a", "Manual")
    backend = MemoryBackend([vm], {vm.key: {"x": 1}, "/other": {"y": 1}})
    grant = Change("f-1", "p", vm.id, "grant", before={"x": 1}, after={"x": 2}, order=20)
    task = Change("f-1", "p", "/other", "task", before={"y": 1}, after={"y": 2}, order=60)
    from remediator.model import Plan

    plan = Plan(generated_at=NOW, dry_run=False, scope={}, findings=(), changes=(task, grant))
    Engine(backend, []).apply(plan)
    assert backend.settled == [[grant.id], [task.id]]


def test_not_found_is_a_404_whatever_code_the_provider_uses() -> None:
    assert ArmOperationError("ResourceGroupNotFound", "gone", 404).not_found
    assert ArmOperationError("NotFound", "gone").not_found
    assert not ArmOperationError("Conflict", "busy", 409).not_found
