"""Layering rules import-linter cannot see: who may print, and who may import the Azure SDK."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAY_PRINT = {"remediator/cli.py", "remediator/emulator/cli.py"}


def _sources() -> list[Path]:
    return sorted([*ROOT.joinpath("remediator").rglob("*.py"), *ROOT.joinpath("playbooks").rglob("*.py")])


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_only_reports_and_cli_print() -> None:
    offenders = []
    for path in _sources():
        rel = _rel(path)
        if rel in MAY_PRINT or rel.startswith("remediator/report/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in ("print", "echo", "secho", "pprint"):
                    offenders.append(f"{rel}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr") and rel != "remediator/cli.py":
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []


def test_only_the_azure_layer_imports_the_sdk() -> None:
    offenders = []
    for path in _sources():
        rel = _rel(path)
        if rel.startswith("remediator/azure/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{rel}:{node.lineno} {n}" for n in names if n == "azure" or n.startswith("azure.")]
    assert offenders == []
