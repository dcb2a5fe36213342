"""session version and expiring handed-out passwords on staff accounts

Every login writes the account's session_version into its session; raising the number ends
all of that person's sessions. password_expires_at bounds a password an administrator
handed out (invitation or reset); the person must choose their own before then.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 19:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_user') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('password_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('staff_user') as batch:
        batch.drop_column('password_expires_at')
        batch.drop_column('session_version')
