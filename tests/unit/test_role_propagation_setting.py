"""``apply.role_propagation_seconds``: how long after a grant the work that needs it is retried."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.config import Settings, build_settings
from remediator.errors import ConfigError
from remediator.runtime import AZURE_ROLE_PROPAGATION, apply_settings


def _settings(tmp_path: Path, text: str) -> Settings:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    return build_settings(config_path=str(cfg), environ={})


def test_the_setting_wins_over_every_default(tmp_path: Path) -> None:
    settings = build_settings(config_path=None, environ={})
    assert apply_settings(settings).role_propagation_seconds == AZURE_ROLE_PROPAGATION == 180.0
    # Against --estate: the delay the emulator models (plus a margin), or none.
    assert apply_settings(settings, 0.05, role_propagation=630.0).role_propagation_seconds == 630.0
    assert apply_settings(settings, 0.05, role_propagation=0.0).role_propagation_seconds == 0.0
    chosen = _settings(tmp_path, "apply: {role_propagation_seconds: 600}\n")
    assert apply_settings(chosen).role_propagation_seconds == 600.0
    assert apply_settings(chosen, 0.05, role_propagation=30.0).role_propagation_seconds == 600.0


def test_a_negative_window_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, "apply: {role_propagation_seconds: -5}\n")
    assert "role_propagation_seconds" in str(caught.value) and "\n" not in str(caught.value)


def test_retries_are_spread_over_the_window() -> None:
    settings = build_settings(config_path=None, environ={})
    assert apply_settings(settings).role_propagation_poll_interval == 9.0  # 180 s / 20 tries
    assert (
        apply_settings(settings, 0.05, role_propagation=630.0).role_propagation_poll_interval == 30.0
    )  # at most 30 s apart
    assert apply_settings(settings, 0.05, role_propagation=2.0).role_propagation_poll_interval == 0.1
