"""Command-line tasks: ``flask --app visits seed-demo`` and ``create-user``."""

from __future__ import annotations

import click
from flask import Flask

from visits.clerks.accounts import AccountError, create_user
from visits.core import clock
from visits.extensions import transaction
from visits.models import Role


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Add demo services, two clerks with weekly hours and an admin."""
        from visits.ops.demo import DemoInProduction, seed_demo

        try:
            credentials = seed_demo(now=clock.now())
        except DemoInProduction as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo("Demo data is in place. Staff login at /staff/login with:")
        for role, email, password in credentials:
            click.echo(f"  {role:6} {email}  password: {password}")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option(
        "--role", type=click.Choice([Role.ADMIN.value, Role.CLERK.value, Role.DEPARTMENT_ADMIN.value]), required=True
    )
    @click.option("--name", default="", help="Display name (default: the email address).")
    @click.option("--department", default="", help="The department's slug (needed for department_admin).")
    @click.password_option(help="At least 12 characters, not a common one; asked for when not given.")
    def create_user_command(email: str, role: str, name: str, department: str, password: str) -> None:
        """Create a staff account (clerk, admin or department_admin)."""
        from visits.admin.places import department_by_slug

        department_id = None
        if department:
            found = department_by_slug(department)
            if found is None:
                raise click.ClickException(f"no department {department!r}")
            department_id = found.id
        try:
            with transaction():
                user = create_user(
                    email, name or email, password, role, now=clock.now(), department_id=department_id
                )
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        where = f" in department {department.strip().lower()}" if department_id else ""
        click.echo(f"Created {user.role} {user.email}{where}.")
