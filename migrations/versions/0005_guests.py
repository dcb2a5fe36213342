"""a third person in a video appointment: appointment_guest

One row per invitation of an interpreter or a support person; at most one not removed per
appointment (a partial unique index, on SQLite and on PostgreSQL). Only the SHA-256 of the
guest's join link is stored.

Revision ID: 0005_guests
Revises: 0004
Create Date: 2026-12-03 08:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_guests'
down_revision = '0005_presence'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appointment_guest',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('invited_by', sa.String(length=10), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('sign_language', 'spoken_language', 'support', 'other')",
            name=op.f('ck_appointment_guest_role_known'),
        ),
        sa.CheckConstraint(
            "invited_by IN ('citizen', 'clerk')", name=op.f('ck_appointment_guest_inviter_known')
        ),
        sa.ForeignKeyConstraint(
            ['appointment_id'], ['appointment.id'],
            name=op.f('fk_appointment_guest_appointment_id_appointment'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['invited_by_id'], ['staff_user.id'], name=op.f('fk_appointment_guest_invited_by_id_staff_user'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_guest')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_appointment_guest_token_hash')),
    )
    op.create_index(
        op.f('ix_appointment_guest_appointment_id'), 'appointment_guest', ['appointment_id'], unique=False
    )
    op.create_index(
        'uq_appointment_guest_active',
        'appointment_guest',
        ['appointment_id'],
        unique=True,
        sqlite_where=sa.text('removed_at IS NULL'),
        postgresql_where=sa.text('removed_at IS NULL'),
    )


def downgrade():
    op.drop_index('uq_appointment_guest_active', table_name='appointment_guest')
    op.drop_index(op.f('ix_appointment_guest_appointment_id'), table_name='appointment_guest')
    op.drop_table('appointment_guest')
