"""infra/ as shipped: the role the templates deploy is the one `remediator permissions` prints, and
the job's own command lines run (against the emulator) and write the reports they promise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
PLACEHOLDER = "/subscriptions/00000000-0000-0000-0000-000000000000"


def _k8s() -> list[dict]:
    return [d for d in yaml.safe_load_all((INFRA / "kubernetes/aum-remediator.yaml").read_text()) if d]


def _bicep_args() -> list[str]:
    text = (INFRA / "bicep/main.bicep").read_text()
    block = text.split("var runArgs = [", 1)[1].split("\n]", 1)[0]
    return re.findall(r"'([^']*)'", block)


def test_the_bicep_role_is_the_one_permissions_prints() -> None:
    printed = run_cli(["permissions", "--scope", PLACEHOLDER])
    assert printed.code == 0, printed.stderr
    shipped = json.loads((INFRA / "bicep/role.json").read_text())
    assert shipped["Actions"] == json.loads(printed.stdout)["Actions"], "run `make infra-role`"
    condition = run_cli(["permissions", "--scope", PLACEHOLDER, "--condition"])
    assert (INFRA / "bicep/role-assignment-condition.txt").read_text() == condition.stdout.strip()


def test_the_bicep_deploys_that_role_with_its_condition() -> None:
    main = (INFRA / "bicep/main.bicep").read_text()
    role = (INFRA / "bicep/role.bicep").read_text()
    assert "loadJsonContent('role.json')" in main and "actions: role.Actions" in main
    assert "loadTextContent('role-assignment-condition.txt')" in main and "condition: condition" in main
    assert "actions: actions" in role and "condition: grants ? condition : null" in role
    assert "conditionVersion: grants ? '2.0' : null" in role


def _run_job(args: list[str], config: str, tmp_path: Path) -> tuple[int, Path]:
    settings = yaml.safe_load(config) or {}
    settings.pop("scope", None)  # the demo estate is the whole tenant
    (tmp_path / "remediator.yaml").write_text(yaml.safe_dump(settings))
    reports = tmp_path / "reports"
    reports.mkdir()
    local = [a.replace("/config/", f"{tmp_path}/").replace("/reports/", f"{reports}/") for a in args]
    command = local.index("run")
    result = run_cli([*local[: command + 1], "--estate", "demo", *local[command + 1 :]])
    return result.code, reports


@pytest.mark.parametrize("template", ["kubernetes", "bicep"])
def test_the_job_command_runs_and_writes_every_report(template: str, tmp_path: Path) -> None:
    if template == "kubernetes":
        cron = next(d for d in _k8s() if d["kind"] == "CronJob")
        container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        args = container["args"]
        config = next(d for d in _k8s() if d["kind"] == "ConfigMap")["data"]["remediator.yaml"]
    else:
        args, config = _bicep_args(), "report: {locale: en-us}\n"
    code, reports = _run_job(args, config, tmp_path)
    assert code == 0
    assert json.loads((reports / "latest.json").read_text())["plan_after_apply"]["changes"] == []
    for name in ("latest.html", "latest.xml", "latest.md"):
        assert (reports / name).stat().st_size > 0


def test_the_shipped_settings_are_valid(tmp_path: Path) -> None:
    config = next(d for d in _k8s() if d["kind"] == "ConfigMap")["data"]["remediator.yaml"]
    path = tmp_path / "remediator.yaml"
    path.write_text(config)
    result = run_cli(["validate", "--config", str(path)])
    assert result.code == 0, result.stderr
    assert "scope: management group landing-zones" in result.stdout


def test_the_cronjob_runs_locked_down_with_an_image_by_digest() -> None:
    docs = {d["kind"]: d for d in _k8s()}
    assert {"Namespace", "ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "CronJob"} <= set(docs)
    pod = docs["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert re.fullmatch(r"[\w./-]+@sha256:[0-9a-f]{64}", container["image"])
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]["cpu"] and container["resources"]["limits"]["memory"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
    assert docs["ServiceAccount"]["metadata"]["annotations"]["azure.workload.identity/client-id"]
