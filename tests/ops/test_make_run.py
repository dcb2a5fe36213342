"""`make run` as a newcomer meets it: the links it mails lead to the server it started, and
it installs what the app needs, not the test tools."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import load_settings
from visits import create_app
from visits.booking import links

ROOT = Path(__file__).resolve().parents[2]


def _make_dry(target: str, *make_args: str) -> str:
    """What ``make target`` would do, printed (make -n; -B as on a fresh machine), nothing run."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    command = ["make", "-n", "-B", "-C", str(ROOT), target, *make_args]
    # The caller's settings and make's own (a `make test` around this), not make run's defaults.
    outside = {"HOST", "PORT", "PUBLIC_BASE_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    env = {name: value for name, value in os.environ.items() if name not in outside}
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout


def _run_line(*make_args: str) -> str:
    """The command `make run` would serve with."""
    (line,) = [line for line in _make_dry("run", *make_args).splitlines() if "--app visits run" in line]
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


# -- what `make run` installs -----------------------------------------------------------

RUNTIME_CODE = ["visits", "migrations", "scheduler.py", "config.py", "gunicorn.conf.py"]
TEST_TOOLS = {
    "pytest",
    "hypothesis",
    "playwright",
    "schemathesis",
    "ruff",
    "time-machine",
    "aiosmtpd",
    "trustme",
}


def _name(requirement: str) -> str:
    """PEP 503 normalised distribution name of a requirement line ("PyJWT[crypto]==2" -> "pyjwt")."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\[=<>~ ;]", requirement.strip(), maxsplit=1)[0]).lower()


def _requirements(file: str) -> tuple[set[str], list[str]]:
    """The distributions a requirements file pins, and the files it includes (-r)."""
    lines = [line.strip() for line in (ROOT / file).read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    included = [line.split(maxsplit=1)[1] for line in lines if line.startswith("-r ")]
    pinned = [line for line in lines if not line.startswith("-")]
    assert all("==" in line for line in pinned), "every requirement is pinned"
    return {_name(line) for line in pinned}, included


def _third_party_imports() -> set[str]:
    names: set[str] = set()
    files = [
        p
        for entry in RUNTIME_CODE
        for p in ([ROOT / entry] if entry.endswith(".py") else (ROOT / entry).rglob("*.py"))
    ]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"visits", "config", "__future__"}


def test_requirements_txt_holds_what_the_app_imports_and_no_test_tools():
    runtime, _ = _requirements("requirements.txt")
    distributions = importlib.metadata.packages_distributions()
    missing = {
        module: distributions.get(module)
        for module in _third_party_imports()
        if not {_name(d) for d in distributions.get(module, [])} & runtime
    }
    assert missing == {}
    assert not runtime & TEST_TOOLS


def test_requirements_dev_txt_adds_the_test_tools_to_the_runtime():
    dev, included = _requirements("requirements-dev.txt")
    assert included == ["requirements.txt"]
    assert dev >= TEST_TOOLS


def test_make_run_installs_the_runtime_and_make_test_the_test_tools_too():
    run = _make_dry("run")
    assert "-r requirements.txt" in run and "requirements-dev.txt" not in run
    for target in ("test", "lint", "bench"):
        assert "-r requirements-dev.txt" in _make_dry(target), target
