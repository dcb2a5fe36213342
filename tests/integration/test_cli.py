"""The command-line contract: db upgrade, seed-demo, create-user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from visits.clerks.accounts import by_email, check_password
from visits.extensions import db
from visits.models import Service, StaffUser, WeeklyHours

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.processes  # runs `flask` in processes of its own
def test_db_upgrade_builds_an_empty_database_from_nothing(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "SECRET_KEY": "x"}
    flask = [sys.executable, "-m", "flask", "--app", "visits"]
    done = subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    seeded = subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert seeded.returncode == 0, seeded.stderr
    assert "admin@stadt.example" in seeded.stdout and "password:" in seeded.stdout


@pytest.fixture
def development(app_config):
    """A development site (http): the only kind where seed-demo runs."""
    app_config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"


def test_seed_demo_adds_services_clerks_with_hours_and_an_admin_once(development, app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    services = db.session.scalars(select(Service)).all()
    assert len(services) >= 2 and any(s.video for s in services)
    assert {s.slug for s in services if s.combinable} == {"personalausweis", "anmeldung"}  # a family books both
    clerks = db.session.scalars(select(StaffUser).where(StaffUser.role == "clerk")).all()
    assert len(clerks) == 2
    assert all(c.weekly_hours and c.services for c in clerks)
    assert db.session.scalar(select(func.count()).where(StaffUser.role == "admin")) == 1
    assert db.session.scalar(select(func.count()).select_from(WeeklyHours)) == 2 * 7
    for line in first.output.splitlines():
        if "password:" in line:
            email, password = line.split()[1], line.split()[-1]
            assert check_password(by_email(email), password)


def test_create_user_makes_a_staff_account_with_a_hashed_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "Neu@Stadt.Example", "--role", "admin", "--name", "Neue Admin"],
        input="ein-langes-passwort\nein-langes-passwort\n",
    )
    assert result.exit_code == 0, result.output
    user = by_email("neu@stadt.example")
    assert user.role == "admin" and user.name == "Neue Admin"
    assert "ein-langes-passwort" not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")
    assert check_password(user, "ein-langes-passwort")


def test_create_user_refuses_a_short_password_and_a_duplicate(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-user", "a@stadt.example", "--role", "clerk", "--password", "kurz"])
    assert short.exit_code != 0 and "12 characters" in short.output
    runner.invoke(args=["create-user", "b@stadt.example", "--role", "clerk", "--password", "lang-genug-1"])
    again = runner.invoke(args=["create-user", "B@stadt.example", "--role", "clerk", "--password", "lang-genug-2"])
    assert again.exit_code != 0 and "exists" in again.output


def test_create_user_makes_a_department_admin_of_an_existing_department_only(app, factories):
    department = factories.department("auslaenderbehoerde", "Ausländerbehörde")
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["create-user", "fb@stadt.example", "--role", "department_admin", "--department", "Auslaenderbehoerde"],
        input="ein-langes-passwort\nein-langes-passwort\n",
    )
    assert made.exit_code == 0, made.output
    user = by_email("fb@stadt.example")
    assert user.role == "department_admin" and user.department_id == department.id
    unknown = runner.invoke(
        args=["create-user", "x@stadt.example", "--role", "department_admin", "--department", "gibt-es-nicht"],
        input="ein-langes-passwort\nein-langes-passwort\n",
    )
    assert unknown.exit_code != 0 and "no department" in unknown.output
    missing = runner.invoke(
        args=["create-user", "y@stadt.example", "--role", "department_admin", "--password", "ein-langes-passwort"]
    )
    assert missing.exit_code != 0 and "needs a department" in missing.output
    assert by_email("x@stadt.example") is None and by_email("y@stadt.example") is None
