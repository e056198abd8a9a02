"""Small estate builders for the policy playbooks' tests, in the estate file's ARM shapes.

Every test builds the estate it needs from these pieces; `to_estate` turns the same dict into
the in-memory `Estate` the pure unit tests use, with the emulator's bundled built-in
definitions (the inventory resolves the same ids through the emulator in the integration tests).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from remediator import Estate, PolicyState, Resource, Subscription

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
S1 = "11111111-1111-1111-1111-111111111111"
S2 = "22222222-2222-2222-2222-222222222222"
MG = "landing-zones"
MG_ID = f"/providers/Microsoft.Management/managementGroups/{MG}"

BUILTIN = "/providers/Microsoft.Authorization/policyDefinitions/"
VM_ASSESSMENT = BUILTIN + "59efceea-0c96-497e-a4a1-4eb2290dac15"
ARC_ASSESSMENT = BUILTIN + "bfea026e-043f-4ff4-9d1b-bf301ca7ff46"
PREREQUISITES = BUILTIN + "9905ca54-1471-49c6-8291-7582c04cd4d4"
SCHEDULING = BUILTIN + "ba0df93e-e4ac-479a-aac2-134bbae39a1a"
AUDIT_ASSESSMENT = BUILTIN + "bd876905-5b84-4f73-ab2d-2e7a7c4568d9"

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
VM_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"

BUILTINS_DIR = Path(__file__).resolve().parents[3] / "remediator" / "emulator" / "builtins"


def sub_id(sub: str) -> str:
    return f"/subscriptions/{sub}"


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def resource_group(sub: str, rg: str, location: str = "westeurope") -> dict[str, Any]:
    return {
        "id": rg_id(sub, rg),
        "name": rg,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }


def management_group(name: str, subscriptions: list[str]) -> dict[str, Any]:
    return {
        "id": f"/providers/Microsoft.Management/managementGroups/{name}",
        "name": name,
        "type": "Microsoft.Management/managementGroups",
        "properties": {
            "displayName": name,
            "children": [
                {"id": sub_id(s), "name": s, "type": "/subscriptions", "displayName": s} for s in subscriptions
            ],
        },
    }


def vm(
    sub: str,
    rg: str,
    name: str,
    *,
    os_type: str = "Windows",
    attach: bool = False,
    image_id: str | None = None,
    os_profile: bool = True,
    encryption_set: str | None = None,
    location: str = "westeurope",
    assessment: str = "ImageDefault",
) -> dict[str, Any]:
    """A VM in ARM's shape; ``attach`` = restored/migrated OS disk, ``image_id`` = gallery image."""
    vm_id = f"{rg_id(sub, rg)}/providers/Microsoft.Compute/virtualMachines/{name}"
    disk_id = f"{rg_id(sub, rg)}/providers/Microsoft.Compute/disks/{name}-os"
    managed: dict[str, Any] = {"id": disk_id, "storageAccountType": "Premium_LRS"}
    if encryption_set:
        managed["diskEncryptionSet"] = {"id": encryption_set}
    storage: dict[str, Any] = {
        "osDisk": {
            "osType": os_type,
            "name": f"{name}-os",
            "createOption": "Attach" if attach else "FromImage",
            "managedDisk": managed,
        },
        "dataDisks": [],
    }
    if image_id:
        storage["imageReference"] = {"id": image_id}
    elif not attach:
        storage["imageReference"] = {
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2022-datacenter",
            "version": "latest",
        }
    props: dict[str, Any] = {
        "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, vm_id.lower())),
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": storage,
        "provisioningState": "Succeeded",
    }
    if os_profile:
        config = "windowsConfiguration" if os_type == "Windows" else "linuxConfiguration"
        props["osProfile"] = {
            "computerName": name,
            "adminUsername": "azureuser",
            config: {"patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": assessment}},
        }
    return {
        "id": vm_id,
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": location,
        "tags": {},
        "properties": props,
    }


def arc_machine(sub: str, rg: str, name: str, location: str = "westeurope") -> dict[str, Any]:
    return {
        "id": f"{rg_id(sub, rg)}/providers/Microsoft.HybridCompute/machines/{name}",
        "name": name,
        "type": "Microsoft.HybridCompute/machines",
        "location": location,
        "properties": {"osName": "windows", "osType": "windows", "status": "Connected", "osProfile": {}},
    }


def gallery_image(sub: str, rg: str, gallery: str, image: str, *, specialized: bool = True) -> list[dict[str, Any]]:
    """A gallery, an image definition and one version; returns the three resources."""
    gallery_id = f"{rg_id(sub, rg)}/providers/Microsoft.Compute/galleries/{gallery}"
    image_id = f"{gallery_id}/images/{image}"
    return [
        {
            "id": gallery_id,
            "name": gallery,
            "type": "Microsoft.Compute/galleries",
            "location": "westeurope",
            "properties": {},
        },
        {
            "id": image_id,
            "name": image,
            "type": "Microsoft.Compute/galleries/images",
            "location": "westeurope",
            "properties": {
                "osType": "Windows",
                "osState": "Specialized" if specialized else "Generalized",
                "identifier": {"publisher": "contoso", "offer": "golden", "sku": "windows"},
            },
        },
        {
            "id": f"{image_id}/versions/1.0.0",
            "name": "1.0.0",
            "type": "Microsoft.Compute/galleries/images/versions",
            "location": "westeurope",
            "properties": {"provisioningState": "Succeeded"},
        },
    ]


def user_identity(sub: str, rg: str, name: str, principal: str) -> dict[str, Any]:
    return {
        "id": f"{rg_id(sub, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        "name": name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": "westeurope",
        "properties": {"principalId": principal, "clientId": principal[::-1], "tenantId": TENANT},
    }


def policy_assignment(
    scope: str,
    name: str,
    definition_id: str,
    *,
    principal: str | None = None,
    user_identity_id: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    identity: dict[str, Any] = {"type": "None"}
    if principal and not user_identity_id:
        identity = {"type": "SystemAssigned", "principalId": principal, "tenantId": TENANT}
    elif user_identity_id:
        identity = {
            "type": "UserAssigned",
            "userAssignedIdentities": {user_identity_id: {"principalId": principal, "clientId": "c"}},
        }
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/policyAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyAssignments",
        "location": "westeurope",
        "identity": identity,
        "properties": {
            "displayName": name,
            "policyDefinitionId": definition_id,
            "scope": scope,
            "parameters": {k: {"value": v} for k, v in (parameters or {}).items()},
            "enforcementMode": "Default",
        },
    }


def policy_set_definition(scope: str, name: str, members: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """A custom initiative; ``members`` are (reference id, definition id, parameters passed)."""
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/policySetDefinitions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policySetDefinitions",
        "properties": {
            "displayName": name,
            "policyType": "Custom",
            "parameters": {"prereqEffect": {"type": "String", "defaultValue": "DeployIfNotExists"}},
            "policyDefinitions": [
                {"policyDefinitionReferenceId": ref, "policyDefinitionId": did, "parameters": params}
                for ref, did, params in members
            ],
        },
    }


def custom_definition(scope: str, name: str, effect: str, roles: list[str]) -> dict[str, Any]:
    """A custom (non-AUM unless configured) definition with a modify/DINE/audit effect."""
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/policyDefinitions/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyDefinitions",
        "properties": {
            "displayName": name,
            "policyType": "Custom",
            "mode": "Indexed",
            "parameters": {},
            "policyRule": {
                "if": {"field": "type", "equals": "Microsoft.Compute/virtualMachines"},
                "then": {
                    "effect": effect,
                    "details": {
                        "roleDefinitionIds": [f"/providers/Microsoft.Authorization/roleDefinitions/{r}" for r in roles],
                        "operations": [
                            {
                                "operation": "addOrReplace",
                                "field": "Microsoft.Compute/virtualMachines/osProfile.windowsConfiguration"
                                ".patchSettings.assessmentMode",
                                "value": "AutomaticByPlatform",
                            }
                        ],
                    },
                },
            },
        },
    }


def role_assignment(scope: str, principal: str, role: str, name: str) -> dict[str, Any]:
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "scope": scope,
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{role}",
        },
    }


def state(
    resource: dict[str, Any],
    assignment: dict[str, Any],
    definition_id: str,
    *,
    reference: str = "",
    compliance: str = "NonCompliant",
) -> dict[str, Any]:
    out = {
        "resourceId": resource["id"],
        "policyAssignmentId": assignment["id"],
        "policyDefinitionId": definition_id,
        "complianceState": compliance,
        "timestamp": "2026-11-26T08:00:00Z",
    }
    if reference:
        out["policyDefinitionReferenceId"] = reference
        out["policySetDefinitionId"] = assignment["properties"]["policyDefinitionId"]
    return out


def estate(
    resources: list[dict[str, Any]], states: list[dict[str, Any]], subs: tuple[str, ...] = (S1, S2)
) -> dict[str, Any]:
    return {
        "now": "2026-11-26T09:00:00Z",
        "tenantId": TENANT,
        "subscriptions": [{"subscriptionId": s, "displayName": f"sub-{s[0]}", "state": "Enabled"} for s in subs],
        "resources": resources,
        "policyStates": states,
        # Grants authorize at once here: these estates are about which roles and tasks, not when
        # (tests/e2e/test_role_propagation.py models Azure's delay).
        "emulator": {"rolePropagationSeconds": 0},
    }


def _builtins(folder: str) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((BUILTINS_DIR / folder).glob("*.json"))]


def to_estate(data: dict[str, Any]) -> Estate:
    """The in-memory Estate the inventory would build from ``data`` (for pure unit tests).

    As the inventory does: built-in policy definitions resolved by id, role definitions read in
    bulk as resources (Resource Graph's authorizationresources).
    """
    return Estate(
        now=datetime(2026, 11, 26, 9, tzinfo=UTC),
        tenant_id=TENANT,
        subscriptions=tuple(Subscription(s["subscriptionId"], s.get("displayName", "")) for s in data["subscriptions"]),
        resources=tuple(Resource.from_arm(r) for r in [*data["resources"], *_builtins("role-definitions")]),
        policy_states=tuple(
            PolicyState(
                resource_id=s["resourceId"],
                policy_assignment_id=s["policyAssignmentId"],
                policy_definition_id=s["policyDefinitionId"],
                compliance_state=s["complianceState"],
                policy_definition_reference_id=s.get("policyDefinitionReferenceId", ""),
                policy_set_definition_id=s.get("policySetDefinitionId", ""),
            )
            for s in data["policyStates"]
        ),
        definitions={str(d["id"]).lower(): d for d in _builtins("policy-definitions")},
    )
