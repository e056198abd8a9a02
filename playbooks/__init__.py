"""The built-in playbooks, one module per documented failure (DESIGN.md 3.4).

Importing this package registers them; the engine finds it through the ``remediator.playbooks``
entry point and never imports it directly.
"""

from . import (
    arc_compute_provider,
    assessment_errors,
    extension_operations,
    installation_errors,
    maintenance_moved_resource,
    maintenance_window,
    patch_orchestration_manual,
    policy_identity_roles,
    policy_remediation,
    powered_off_machines,
    recreated_machine,
    schedule_conflicts,
    schedule_prerequisites,
    stale_assessment,
    update_extension,
)

__all__ = [
    "arc_compute_provider",
    "assessment_errors",
    "extension_operations",
    "installation_errors",
    "maintenance_moved_resource",
    "maintenance_window",
    "patch_orchestration_manual",
    "policy_identity_roles",
    "policy_remediation",
    "powered_off_machines",
    "recreated_machine",
    "schedule_conflicts",
    "schedule_prerequisites",
    "stale_assessment",
    "update_extension",
]
