"""The example Indexed Job for `--shard`: every pod runs one shard, least privilege, bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from remediator.shards import parse_shard

MANIFEST = Path(__file__).resolve().parents[2] / "infra" / "kubernetes" / "indexed-job.yaml"


def _job() -> dict[str, Any]:
    # The manifest also ships the Job's NetworkPolicy.
    docs = yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8"))
    job: dict[str, Any] = next(d for d in docs if d and d["kind"] == "Job")
    return job


def test_each_index_of_the_job_is_one_shard_of_as_many() -> None:
    job = _job()
    spec = job["spec"]
    assert (job["apiVersion"], job["kind"], spec["completionMode"]) == ("batch/v1", "Job", "Indexed")
    (container,) = spec["template"]["spec"]["containers"]
    count = next(int(e["value"]) for e in container["env"] if e["name"] == "REMEDIATOR_SHARD_COUNT")
    assert spec["completions"] == spec["parallelism"] == count
    command = " ".join(container["args"])
    assert '--shard "${JOB_COMPLETION_INDEX}/${REMEDIATOR_SHARD_COUNT}"' in command
    assert all(str(parse_shard(f"{i}/{count}")) == f"{i}/{count}" for i in range(count))


def test_pods_run_unprivileged_with_limits_and_no_mounted_token() -> None:
    pod = _job()["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
