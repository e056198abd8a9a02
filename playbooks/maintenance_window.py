"""Placeholder: this playbook is being written."""
