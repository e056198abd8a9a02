"""Where the contract suite finds its specs: ``--examples DIR``, else ``$REMEDIATOR_REST_SPECS``,
else ``../shared/azure/rest-specs`` beside the repository (how CI lays out a fresh clone).

A folder that is absent skips the suite with the path it looked at, rather than failing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.contract.swagger import SpecFolder

ENV_VAR = "REMEDIATOR_REST_SPECS"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FOLDER = REPO_ROOT.parent / "shared" / "azure" / "rest-specs"

_LOADED: dict[Path, SpecFolder] = {}


def specs_root(config: pytest.Config) -> Path:
    chosen = config.getoption("--examples", default=None) or os.environ.get(ENV_VAR) or DEFAULT_FOLDER
    return Path(chosen).expanduser().resolve()


def load_specs(root: Path) -> SpecFolder | str:
    """The folder's swaggers, or why there are none (the reason a skip shows)."""
    if not (root / "specification").is_dir():
        return f"no REST specs at {root} (expected {root}/specification/...; pass --examples DIR or set ${ENV_VAR})"
    if root not in _LOADED:
        _LOADED[root] = SpecFolder(root)
    return _LOADED[root]
