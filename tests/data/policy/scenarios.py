"""The policy playbooks' test estates.

``landing_zone()`` is the main one: an old (v4.6.0-era) VM periodic-assessment assignment whose
identity holds only Virtual Machine Contributor, a restored VM (attached OS disk, no osProfile),
a VM from a specialized gallery image in another subscription, an initiative assigned at a
management group with a user-assigned identity, and the assignments the bot must leave alone
(audit-only, effect parameter Disabled, a non-AUM policy, an assignment without identity).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.data.policy import builders as b

P_OLD = "aaaaaaaa-1111-4111-8111-000000000001"  # system identity of the old VM assessment assignment
P_UAI = "aaaaaaaa-2222-4222-8222-000000000002"  # user-assigned identity of the MG initiative
P_CUSTOM = "aaaaaaaa-3333-4333-8333-000000000003"  # identity of the non-AUM custom policy

UAI = b.user_identity(b.S1, "identities", "uai-patching", P_UAI)
GALLERY = b.gallery_image(b.S2, "images", "golden", "linux-specialized")
IMAGE_VERSION_ID = GALLERY[2]["id"]
IMAGE_DEFINITION_ID = GALLERY[1]["id"]

VM_RESTORED = b.vm(b.S1, "vms", "vm-restored", attach=True, os_profile=False)
VM_GALLERY = b.vm(b.S1, "vms", "vm-gallery", image_id=IMAGE_VERSION_ID, os_profile=False)
VM_OK = b.vm(b.S1, "vms", "vm-ok", assessment="AutomaticByPlatform")
ARC = b.arc_machine(b.S1, "arc", "arc-1")

INITIATIVE = b.policy_set_definition(
    b.MG_ID,
    "aum-baseline",
    [
        ("prereq", b.PREREQUISITES, {"effect": {"value": "[parameters('prereqEffect')]"}}),
        ("audit", b.AUDIT_ASSESSMENT, {}),
    ],
)
NON_AUM = b.custom_definition(b.sub_id(b.S1), "tag-vms", "modify", [b.CONTRIBUTOR])

A_OLD = b.policy_assignment(b.sub_id(b.S1), "vm-assessment", b.VM_ASSESSMENT, principal=P_OLD)
A_MG = b.policy_assignment(b.MG_ID, "aum-baseline", INITIATIVE["id"], principal=P_UAI, user_identity_id=UAI["id"])
A_DISABLED = b.policy_assignment(
    b.rg_id(b.S1, "vms"),
    "prereq-off",
    b.PREREQUISITES,
    principal="aaaaaaaa-4444-4444-8444-000000000004",
    parameters={"effect": "Disabled"},
)
A_NON_AUM = b.policy_assignment(b.sub_id(b.S1), "tag-vms", NON_AUM["id"], principal=P_CUSTOM)
A_NO_IDENTITY = b.policy_assignment(b.sub_id(b.S1), "arc-assessment", b.ARC_ASSESSMENT)


def landing_zone() -> dict[str, Any]:
    resources = [
        b.management_group(b.MG, [b.S1]),
        b.resource_group(b.S1, "vms"),
        b.resource_group(b.S1, "arc"),
        b.resource_group(b.S1, "identities"),
        b.resource_group(b.S2, "images"),
        UAI,
        *GALLERY,
        VM_RESTORED,
        VM_GALLERY,
        VM_OK,
        ARC,
        INITIATIVE,
        NON_AUM,
        A_OLD,
        A_MG,
        A_DISABLED,
        A_NON_AUM,
        A_NO_IDENTITY,
        # The v4.6.0-era grant: Virtual Machine Contributor only.
        b.role_assignment(b.sub_id(b.S1), P_OLD, b.VM_CONTRIBUTOR, "0b6f2d1e-0000-4000-8000-000000000001"),
        # The initiative's identity was granted Contributor at the management group.
        b.role_assignment(b.MG_ID, P_UAI, b.CONTRIBUTOR, "0b6f2d1e-0000-4000-8000-000000000002"),
        b.role_assignment(b.sub_id(b.S1), P_CUSTOM, b.CONTRIBUTOR, "0b6f2d1e-0000-4000-8000-000000000003"),
    ]
    states = [
        b.state(VM_RESTORED, A_OLD, b.VM_ASSESSMENT),
        b.state(VM_GALLERY, A_OLD, b.VM_ASSESSMENT),
        b.state(VM_OK, A_OLD, b.VM_ASSESSMENT, compliance="Compliant"),
        b.state(VM_RESTORED, A_MG, b.PREREQUISITES, reference="prereq"),
        b.state(VM_RESTORED, A_MG, b.AUDIT_ASSESSMENT, reference="audit"),
        b.state(VM_GALLERY, A_DISABLED, b.PREREQUISITES),
        b.state(VM_RESTORED, A_NON_AUM, NON_AUM["id"]),
        b.state(ARC, A_NO_IDENTITY, b.ARC_ASSESSMENT),
    ]
    # A fresh copy every time: tests edit the estate they get, never the shared pieces above.
    return copy.deepcopy(b.estate(resources, states))
