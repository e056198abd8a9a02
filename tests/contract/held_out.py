"""Build spec folders the seeding code has never seen, and replay them as ``make contract EXAMPLES=DIR`` does.

``spec_tree(source, target)`` copies every swagger of a folder with its ``x-ms-examples`` emptied
(common types and all), so that only the examples a test adds are replayed; ``add_example``
writes one example file and names it from its operation, as azure-rest-api-specs does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.contract.spec_location import REPO_ROOT

REPLAY_TEST = "tests/contract/test_examples.py::test_example_replays_against_the_emulator"
EMPTY_TENANT_TEST = (
    "tests/contract/test_examples.py::test_example_against_an_empty_tenant_is_answered_as_the_swagger_says"
)


def replay_folder(examples: Path) -> subprocess.CompletedProcess[str]:
    """The example replay of ``examples``, in a pytest of its own (what ``make contract`` runs)."""
    command = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-p", "no:xdist"]
    command += [f"--examples={examples}", "tests/contract/test_examples.py"]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)


def spec_tree(source: Path, target: Path) -> None:
    """Every JSON file of ``source/specification`` but the examples, with no operation naming any."""
    for path in (source / "specification").rglob("*.json"):
        if "examples" in path.relative_to(source).parts:
            continue
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        for paths_key in ("paths", "x-ms-paths"):
            for item in (document.get(paths_key) or {}).values() if isinstance(document, dict) else []:
                for operation in item.values():
                    if isinstance(operation, dict):
                        operation.pop("x-ms-examples", None)
        copy = target / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(json.dumps(document, indent=2), encoding="utf-8")


def add_example(folder: Path, operation_id: str, file_name: str, example: dict[str, Any]) -> str:
    """Write ``example`` beside the swagger that defines ``operation_id`` at the example's
    api-version, and name it there.

    Returns the example's path under ``folder`` (the pytest id of its replay)."""
    for swagger in sorted((folder / "specification").rglob("*.json")):
        document = json.loads(swagger.read_text(encoding="utf-8"))
        for paths_key in ("paths", "x-ms-paths"):
            for item in (document.get(paths_key) or {}).values() if isinstance(document, dict) else []:
                for operation in item.values():
                    if (
                        isinstance(operation, dict)
                        and operation.get("operationId") == operation_id
                        and document.get("info", {}).get("version") == example["parameters"]["api-version"]
                    ):
                        (swagger.parent / "examples").mkdir(exist_ok=True)
                        (swagger.parent / "examples" / file_name).write_text(json.dumps(example), encoding="utf-8")
                        named = operation.setdefault("x-ms-examples", {})
                        named[file_name.removesuffix(".json")] = {"$ref": f"./examples/{file_name}"}
                        swagger.write_text(json.dumps(document, indent=2), encoding="utf-8")
                        return (swagger.parent / "examples" / file_name).relative_to(folder).as_posix()
    raise AssertionError(f"no swagger under {folder} defines {operation_id} at {example['parameters']['api-version']}")
