"""Maintenance family: maintenance configurations, their assignments and schedules, and the VMs' patch settings."""
