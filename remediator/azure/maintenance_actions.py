"""Maintenance actions (configuration assignments, patch settings, extensions, assessments).

Owned by the maintenance engineer. Add actions with `remediator.azure.actions.register_action`;
this module is imported by `remediator/azure/__init__.py`, which registers them.
"""
