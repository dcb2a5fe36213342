"""a department's reserved share: a percentage of every clerk's slots kept for the phone centre

``department.reserved_share_percent`` (0 to 100, default 0): that percentage of each clerk's
slots of a day is kept for bookings by staff and the phone centre and offered to the public
from the department's release on, as reserved hours are (booking/share.py). Existing
departments keep nothing back.

Revision ID: 0008_reserved_share
Revises: 0007_composite
Create Date: 2026-12-22 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_reserved_share'
down_revision = '0007_composite'
branch_labels = None
depends_on = None

RANGE = 'reserved_share_percent BETWEEN 0 AND 100'
RANGE_NAME = 'ck_department_reserved_share_percent_range'


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    # Plain ADD COLUMN on SQLite with the check inline (a batch copy of department would lose
    # what refers to it), as 0007_composite does for service.
    if _sqlite():
        op.execute(
            'ALTER TABLE department ADD COLUMN reserved_share_percent INTEGER DEFAULT 0 NOT NULL '
            f'CONSTRAINT {RANGE_NAME} CHECK ({RANGE})'
        )
    else:
        op.add_column(
            'department', sa.Column('reserved_share_percent', sa.Integer(), server_default='0', nullable=False)
        )
        op.create_check_constraint(op.f(RANGE_NAME), 'department', sa.text(RANGE))


def downgrade():
    if _sqlite():
        # SQLite 3.35+ drops a column in place, its own column CHECK with it.
        op.execute('ALTER TABLE department DROP COLUMN reserved_share_percent')
    else:
        op.drop_constraint(op.f(RANGE_NAME), 'department', type_='check')
        op.drop_column('department', 'reserved_share_percent')
