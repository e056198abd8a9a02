"""The tool's version, read from the installed package's metadata: pyproject.toml is its one source."""

from importlib.metadata import PackageNotFoundError, version


def _installed_version() -> str:
    try:
        return version("aum-remediator")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


VERSION = _installed_version()
