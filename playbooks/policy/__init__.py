"""Policy family: Update Manager policy assignments, their remediation tasks and their identities' roles."""
