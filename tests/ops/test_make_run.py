"""`make run` as a newcomer meets it: the links it mails lead to the server it started."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from config import load_settings
from visits import create_app
from visits.booking import links

ROOT = Path(__file__).resolve().parents[2]


def _run_line(*make_args: str) -> str:
    """The command `make run` would serve with (make -n: printed, nothing run)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    printed = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "run", *make_args], capture_output=True, text=True, check=True
    ).stdout
    (line,) = [line for line in printed.splitlines() if "--app visits run" in line]
    return line


def _environment_of(line: str) -> dict[str, str]:
    """The NAME=value assignments in front of a shell command."""
    return dict(re.findall(r"(?:^|\s)([A-Z_]+)=(\S+)", line.split("--app visits run", 1)[0]))


def test_make_run_on_another_port_mails_links_to_that_port(tmp_path):
    env = _environment_of(_run_line("PORT=5501"))
    assert load_settings(env, tmp_path)["PUBLIC_BASE_URL"] == "http://127.0.0.1:5501"


def test_the_app_make_run_starts_on_port_5501_links_mails_to_port_5501(monkeypatch, tmp_path):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    for name, value in _environment_of(_run_line("PORT=5501")).items():
        monkeypatch.setenv(name, value)
    app = create_app({"TESTING": True, "SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        link = links.public_url("manage.show", token="abc")
    assert link.startswith("http://127.0.0.1:5501/")


def test_make_run_on_another_host_mails_links_to_that_host(tmp_path):
    env = _environment_of(_run_line("HOST=192.0.2.7", "PORT=8080"))
    assert load_settings(env, tmp_path)["PUBLIC_BASE_URL"] == "http://192.0.2.7:8080"


def test_plain_make_run_mails_links_to_port_5000(tmp_path):
    env = _environment_of(_run_line())
    assert load_settings(env, tmp_path)["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_a_public_base_url_that_is_set_wins_over_the_served_address(tmp_path):
    env = {
        "FLASK_RUN_HOST": "127.0.0.1",
        "FLASK_RUN_PORT": "5501",
        "PUBLIC_BASE_URL": "https://termine.stadt.example/",
    }
    assert load_settings(env, tmp_path)["PUBLIC_BASE_URL"] == "https://termine.stadt.example"
