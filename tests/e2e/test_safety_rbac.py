"""The emulator enforces RBAC on the bot's own principal (issue 13, defect 10): the role `remediator
permissions` prints is enough for the whole demo job, and each action in it is needed."""

from __future__ import annotations

import json
import uuid
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import run_cli

CLIENT_ID = "5f3f8a1e-7c1b-4d2e-9a6f-0b1c2d3e4f50"
OBJECT_ID = "6a4b9c2d-8e1f-4a3b-9c5d-1e2f3a4b5c60"
ROLE_GUID = "7b5c0d3e-9f2a-4b4c-8d6e-2f3a4b5c6d70"


def demo() -> dict[str, Any]:
    return json.loads(files("remediator").joinpath("emulator/estates/demo.json").read_text(encoding="utf-8"))


def permissions_role(subscriptions: list[str]) -> dict[str, Any]:
    scopes = [arg for sub in subscriptions for arg in ("--scope", f"/subscriptions/{sub}")]
    printed = run_cli(["permissions", *scopes])
    assert printed.code == 0, printed.stderr
    role: dict[str, Any] = json.loads(printed.stdout)
    return role


def with_bot_role(estate: dict[str, Any], actions: list[str]) -> dict[str, Any]:
    """The estate, with RBAC on and the bot holding a custom role of ``actions`` on every subscription."""
    subs = [s["subscriptionId"] for s in estate["subscriptions"]]
    definition_id = f"/subscriptions/{subs[0]}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_GUID}"
    estate["resources"].append(
        {
            "id": definition_id,
            "name": ROLE_GUID,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {
                "roleName": "AUM Remediator",
                "type": "CustomRole",
                "permissions": [{"actions": actions, "notActions": []}],
                "assignableScopes": [f"/subscriptions/{s}" for s in subs],
            },
        }
    )
    for sub in subs:
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, sub))
        estate["resources"].append(
            {
                "id": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments/{name}",
                "name": name,
                "type": "Microsoft.Authorization/roleAssignments",
                "properties": {
                    "scope": f"/subscriptions/{sub}",
                    "roleDefinitionId": definition_id,
                    "principalId": OBJECT_ID,
                    "principalType": "ServicePrincipal",
                },
            }
        )
    knobs = estate.setdefault("emulator", {})
    knobs.update(
        rbac=True, principal={"clientId": CLIENT_ID, "clientSecret": "test-only-secret", "objectId": OBJECT_ID}
    )
    return estate


def run_demo(tmp_path: Path, actions: list[str] | None) -> tuple[int, dict[str, Any], str]:
    """The demo job (``run``); ``actions`` None: the emulator's all-powerful principal, no RBAC."""
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(demo() if actions is None else with_bot_role(demo(), actions)))
    result = run_cli(["run", "--estate", str(path), "--format", "json"])
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.code, report, result.stderr


def test_without_any_role_the_bot_can_read_nothing(tmp_path: Path) -> None:
    code, _, stderr = run_demo(tmp_path, [])
    assert code == 1
    assert "AuthorizationFailed" in stderr


def test_the_printed_role_is_enough_for_the_whole_demo_job(tmp_path: Path) -> None:
    role = permissions_role([s["subscriptionId"] for s in demo()["subscriptions"]])
    code, report, stderr = run_demo(tmp_path, role["Actions"])
    assert code == 0, (stderr, [o for o in report.get("outcomes", []) if o["status"] != "applied"])
    # The same job as the all-powerful principal does: every finding seen, every change made.
    _, unrestricted, _ = run_demo(tmp_path, None)
    assert {c["id"] for c in report["changes"]} == {c["id"] for c in unrestricted["changes"]}
    assert {f["id"] for f in report["findings"]} == {f["id"] for f in unrestricted["findings"]}
    assert report["outcomes"] and {o["status"] for o in report["outcomes"]} == {"applied"}
    assert report["plan_after_apply"]["changes"] == []
    assert "AuthorizationFailed" not in json.dumps(report)


# Each of these is dropped in turn (the whole list runs in `make reliability`): the job fails somewhere.
SAMPLE = [
    "Microsoft.Compute/register/action",
    "Microsoft.Compute/virtualMachines/write",
    "Microsoft.ResourceGraph/resources/read",
]


@pytest.mark.parametrize("dropped", SAMPLE)
def test_each_action_of_the_role_is_needed(tmp_path: Path, dropped: str) -> None:
    role = permissions_role([s["subscriptionId"] for s in demo()["subscriptions"]])
    assert dropped in role["Actions"]
    code, report, stderr = run_demo(tmp_path, [a for a in role["Actions"] if a != dropped])
    assert code != 0
    assert "AuthorizationFailed" in stderr + json.dumps(report)
    assert dropped.lower() in (stderr + json.dumps(report)).lower()
