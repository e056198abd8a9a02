"""Local HTTPS ARM emulator: the tenant every test runs against (see DESIGN.md section 5)."""
