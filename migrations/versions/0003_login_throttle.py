"""login throttle: attempts at the staff login, counted before the password is checked

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 18:50:00.000000

Every attempt is a row, written and committed before the password is looked at, so
parallel requests each see the others (used when REDIS_URL is not set).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('subject', sa.String(length=254), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt')),
    )
    op.create_index('ix_login_attempt_subject', 'login_attempt', ['scope', 'subject', 'at'])


def downgrade():
    op.drop_index('ix_login_attempt_subject', table_name='login_attempt')
    op.drop_table('login_attempt')
