"""The settings: one typed object, built once from the config, with the defaults of config.py."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from config import load_settings
from visits import settings
from visits.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_defaults_build_typed_settings(tmp_path):
    built = Settings.from_config(load_settings({"SECRET_KEY": "k"}, tmp_path))
    assert built.hold_minutes == 15 and built.max_upcoming_per_email == 2
    assert built.slot_cache_enabled is True and built.run_jobs_in_process is False
    assert built.smtp_timeout == 10.0 and built.languages == ("de", "en")
    assert built.database_url == f"sqlite:///{tmp_path / 'visits.db'}"
    assert str(built.zone) == "Europe/Berlin"


def test_values_from_the_environment_get_the_field_type(tmp_path):
    env = {"SECRET_KEY": "k", "HOLD_MINUTES": "5", "METRICS_ENABLED": "off", "SMTP_TIMEOUT": "2.5"}
    built = Settings.from_config(load_settings(env, tmp_path))
    assert (built.hold_minutes, built.metrics_enabled, built.smtp_timeout) == (5, False, 2.5)


def test_the_settings_are_read_only_and_built_once_per_app(app):
    current = settings.current()
    assert current is settings.of(app)
    with pytest.raises(dataclasses.FrozenInstanceError):
        current.hold_minutes = 1  # type: ignore[misc]


def test_every_setting_of_the_environment_is_a_field_and_in_env_example(tmp_path):
    """A setting config.py reads from the environment has a field, and .env.example lists it."""
    read = set(re.findall(r'get\("([A-Z_]+)"', (ROOT / "config.py").read_text()))
    example = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    fields = {f.name.upper() for f in dataclasses.fields(Settings)} | {"DATABASE_URL"}
    flask_only = {"MAX_CONTENT_LENGTH", "FLASK_RUN_HOST", "FLASK_RUN_PORT"}  # read by Flask itself
    assert read - flask_only <= fields
    assert read <= example
