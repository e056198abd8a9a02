"""Policy actions (remediation tasks, role grants for assignment identities).

Owned by the policy engineer. Add actions with `remediator.azure.actions.register_action`;
this module is imported by `remediator/azure/__init__.py`, which registers them.
"""
