"""department administrators: a third staff role that manages one department

``staff_user.role`` may be ``department_admin`` (Fachbereichs-Admin) and grows to 20
characters; a department administrator must belong to a department. Existing
administrators stay the city's administrators (role ``admin``), clerks stay clerks.

SQLite cannot change a CHECK constraint in place, and copying ``staff_user`` (batch mode)
would delete, through the table drop, every row that refers to it with ON DELETE CASCADE
(weekly hours, absences, offered services). So on SQLite the table's stored definition is
rewritten, the procedure SQLite documents for changes that leave the stored rows valid
(https://www.sqlite.org/lang_altertable.html#otheralter): the rows already satisfy the new
constraints (no ``department_admin`` exists before this revision).

Revision ID: 0007_department_admins
Revises: 0006_places
Create Date: 2026-12-20 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_department_admins'
down_revision = '0006_places'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('clerk', 'admin')"
ROLES_AFTER = "role IN ('clerk', 'admin', 'department_admin')"
HAS_DEPARTMENT = "role <> 'department_admin' OR department_id IS NOT NULL"
ROLE_KNOWN = 'ck_staff_user_role_known'
HAS_DEPARTMENT_NAME = 'ck_staff_user_department_admin_has_department'


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _rewrite_sqlite_table(change) -> None:
    """Replace staff_user's stored CREATE TABLE by ``change(sql)`` (SQLite only)."""
    connection = op.get_bind()
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'staff_user'"
    ).scalar()
    version = connection.exec_driver_sql('PRAGMA schema_version').scalar()
    connection.exec_driver_sql('PRAGMA writable_schema = ON')
    connection.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'staff_user'"),
        {'sql': change(sql)},
    )
    connection.exec_driver_sql(f'PRAGMA schema_version = {version + 1}')
    connection.exec_driver_sql('PRAGMA writable_schema = OFF')


def _with_department_admins(sql: str) -> str:
    assert f'CHECK ({ROLES_BEFORE})' in sql, 'staff_user: the role constraint is not the one 0001 created'
    sql = sql.replace(f'CHECK ({ROLES_BEFORE})', f'CHECK ({ROLES_AFTER})')
    head, _closing = sql.rstrip().rsplit(')', 1)
    return f'{head}, CONSTRAINT {HAS_DEPARTMENT_NAME} CHECK ({HAS_DEPARTMENT}))'


def _without_department_admins(sql: str) -> str:
    sql = sql.replace(f', CONSTRAINT {HAS_DEPARTMENT_NAME} CHECK ({HAS_DEPARTMENT})', '')
    return sql.replace(f'CHECK ({ROLES_AFTER})', f'CHECK ({ROLES_BEFORE})')


def upgrade():
    if _sqlite():
        _rewrite_sqlite_table(_with_department_admins)
        return
    op.alter_column('staff_user', 'role', type_=sa.String(length=20), existing_type=sa.String(length=10),
                    existing_nullable=False)
    op.drop_constraint(op.f(ROLE_KNOWN), 'staff_user', type_='check')
    op.create_check_constraint(op.f(ROLE_KNOWN), 'staff_user', sa.text(ROLES_AFTER))
    op.create_check_constraint(op.f(HAS_DEPARTMENT_NAME), 'staff_user', sa.text(HAS_DEPARTMENT))


def downgrade():
    # A department administrator has no role to go back to: they become clerks of their department.
    op.execute("UPDATE staff_user SET role = 'clerk' WHERE role = 'department_admin'")
    if _sqlite():
        _rewrite_sqlite_table(_without_department_admins)
        return
    op.drop_constraint(op.f(HAS_DEPARTMENT_NAME), 'staff_user', type_='check')
    op.drop_constraint(op.f(ROLE_KNOWN), 'staff_user', type_='check')
    op.create_check_constraint(op.f(ROLE_KNOWN), 'staff_user', sa.text(ROLES_BEFORE))
    op.alter_column('staff_user', 'role', type_=sa.String(length=10), existing_type=sa.String(length=20),
                    existing_nullable=False)
