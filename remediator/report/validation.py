"""What `remediator validate` says about a configuration: the run it describes, before any call."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import Settings
from ..engine import PlaybookRun


def describe_settings(
    settings: Settings, runs: Sequence[PlaybookRun], source: str | None, estate: str | None
) -> tuple[str, list[str]]:
    """The description (stdout) and the warnings about the scope (stderr)."""
    warnings: list[str] = []
    scope = settings.scope
    if scope.management_group:
        where = f"management group {scope.management_group}"
    elif scope.subscriptions:
        where = f"{len(scope.subscriptions)} subscriptions: {', '.join(scope.subscriptions)}"
    else:
        where = "every subscription the identity can read (no scope set)"
        warnings.append("scope: none set: the run covers every subscription the identity can read")
    target = f"emulator estate {estate}" if estate else settings.arm_endpoint or "Azure (DefaultAzureCredential)"
    fixing = [r.playbook.id for r in runs if r.fixing and not r.playbook.report_only]
    opt_in_off = [r.playbook.id for r in runs if not r.fixing and not r.playbook.report_only]
    report_only = [r.playbook.id for r in runs if r.playbook.report_only]
    tags = ", ".join(f"{k}={v}" for k, v in settings.exclude_tags.items()) or "-"
    lines = [
        f"settings: valid ({source or 'no settings file: defaults, flags and environment'})",
        f"scope: {where}",
        f"target: {target}",
        f"playbooks: {len(runs)} enabled",
        f"  fix on: {', '.join(fixing) or '-'}",
        f"  opt-in (off): {', '.join(opt_in_off) or '-'}",
        f"  report only: {', '.join(report_only) or '-'}",
        f"guardrails: max_changes {settings.max_changes}, {len(settings.exclude)} exclude patterns, "
        f"exclude tags {tags}",
        f"apply: concurrency {settings.concurrency}, rounds {settings.rounds}, timeout {settings.timeout_seconds:g}s",
        f"reports: doc links in {settings.locale}, {settings.top or 'all'} detail rows",
    ]
    return "\n".join(lines) + "\n", warnings
