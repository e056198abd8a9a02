"""dynamic-scope-validation: dynamic scopes the Maintenance service cannot validate or flatten.

troubleshoot-maintenance-configurations.md:

* "Unable to create dynamic scope (at Resource Group Level)": validation fails on a null
  location; the recommendation is to give resource-group-level dynamic scopes their set of
  ``locations``. Reported for every resource-group-level scope whose filter has none.
* "Dynamic Scope not executed and no resources patched": flattening a configuration's dynamic
  scopes is throttled when they span too many subscriptions; the article and the service limits
  (maintenance-configurations.md#service-limits) say fewer than 30. Reported per configuration
  whose dynamic scopes span ``max_subscriptions`` (default 30) or more subscriptions.
* "Dynamic Scope creation fails" (RBAC) and "Unable to provide multiple tag values" (portal):
  a failed creation leaves no resource for an API to show, so they are not detected; the
  first finding above names the permission needed, the second is a portal limitation only.

Report only: which locations a scope should cover, and how to split a configuration, are the
owner's choices.
"""

from __future__ import annotations

from collections.abc import Iterable

from remediator import Context, Finding, Needs, Playbook, register

from ._maintenance_model import ASSIGNMENT_TYPE, CONFIGURATION_TYPE, assignments

PLAYBOOK_ID = "dynamic-scope-validation"
RG_DOC = "troubleshoot-maintenance-configurations.md#unable-to-create-dynamic-scope-at-resource-group-level"
FLATTEN_DOC = "troubleshoot-maintenance-configurations.md#dynamic-scope-not-executed-and-no-resources-patched"


def _is_group(target: str) -> bool:
    parts = [p for p in target.split("/") if p]
    return len(parts) == 4 and parts[2].lower() == "resourcegroups"


def detect(ctx: Context) -> Iterable[Finding]:
    limit = int(ctx.option("max_subscriptions", 30))
    subscriptions: dict[str, set[str]] = {}
    for scope in assignments(ctx.estate):
        if not scope.dynamic:
            continue
        subscriptions.setdefault(scope.configuration_id.lower(), set()).add(scope.target.split("/")[2].lower())
        if _is_group(scope.target) and not scope.filter.get("locations"):
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=scope.id,
                severity="medium",
                title=f"Dynamic scope {scope.name} at resource-group level has no locations",
                detail=(
                    f"The dynamic scope {scope.name} on {scope.target} filters on no location. The service's "
                    "validation of resource-group-level dynamic scopes fails on a null location; give the scope "
                    "the set of locations its machines are in (creating or changing a dynamic scope needs "
                    "Microsoft.Maintenance/configurationAssignments/write at the subscription or resource group)."
                ),
                doc=RG_DOC,
                fixable=False,
                key="locations",
                data={"scope": scope.target, "configuration": scope.configuration_id},
            )
    for config_id, subs in sorted(subscriptions.items()):
        if len(subs) < limit:
            continue
        config = ctx.estate.get(config_id)
        name = config.name if config else config_id.rsplit("/", 1)[-1]
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=config.id if config else config_id,
            severity="high",
            title=f"{name}: dynamic scopes span {len(subs)} subscriptions",
            detail=(
                f"The dynamic scopes of {name} span {len(subs)} subscriptions; flattening them is throttled at 30 "
                "or more and the schedule then runs on no machine. Split the configuration so each one's dynamic "
                "scopes cover fewer than 30 subscriptions."
            ),
            doc=FLATTEN_DOC,
            fixable=False,
            key="subscriptions",
            data={"subscriptions": sorted(subs)},
        )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Dynamic scopes the Maintenance service cannot validate or flatten",
        doc=RG_DOC,
        severity="medium",
        detect=detect,
        needs=Needs(resource_types=frozenset({ASSIGNMENT_TYPE, CONFIGURATION_TYPE})),
        read_permissions=("Microsoft.Maintenance/configurationAssignments/read",),
        fix_default=False,
        phase=90,
        options_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {"max_subscriptions": {"type": "integer", "minimum": 1}},
        },
    )
)
