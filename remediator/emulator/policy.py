"""Policy Insights (policy states, remediations, triggerEvaluation), policy assignments,
definitions and set definitions.

Owned by the policy engineer.

Declare routes with ``remediator.emulator.routing.route`` into ``ROUTES`` (see routing.py).
"""

from __future__ import annotations

from remediator.emulator.routing import Route

ROUTES: list[Route] = []
