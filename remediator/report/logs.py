"""Logging for people (text) and for log pipelines (one JSON object a line, each with the run id).

Verbosity: silent by default but for warnings, progress lines off a terminal and the closing
summary; ``-v`` adds what the bot does (inventory counts, findings per playbook, each change's
outcome); ``-vv`` adds debug detail and the Azure SDK's HTTP logs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Always shown, whatever the verbosity: progress off a terminal and the one-line summary.
ALWAYS = ("remediator.progress", "remediator.summary")
LOG_FORMATS = ("text", "json")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept in JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "run_id"}


class RunIdFilter(logging.Filter):
    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = self.run_id
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "run_id": getattr(record, "run_id", ""),
            "message": record.getMessage(),
        }
        doc.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class TextFormatter(logging.Formatter):
    """``level logger: message`` for ours; the always-on lines bare, as a person expects them."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name in ALWAYS and record.levelno == logging.INFO:
            return record.getMessage()
        return super().format(record)


def configure(verbose: int, log_format: str, run_id: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RunIdFilter(run_id))
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # -vv is everything, the HTTP client's wire lines (urllib3) included.
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.getLogger("remediator").setLevel(
        logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    )
    for name in ALWAYS:
        logging.getLogger(name).setLevel(logging.INFO)
    # azure-core logs every request at INFO and DefaultAzureCredential its whole chain at WARNING:
    # the SDK's wire logs are for -vv only; below that the user gets our one-line errors.
    logging.getLogger("azure").setLevel(
        logging.ERROR if verbose == 0 else logging.WARNING if verbose == 1 else logging.INFO
    )
