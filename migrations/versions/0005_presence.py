"""presence in video rooms and their lobbies, as Jitsi reports it

Revision ID: 0005_presence
Revises: 0004
Create Date: 2026-12-03 08:30:00.000000

One row per stay of one participant in a room or its lobby (Prosody's event_sync
occupant-joined / occupant-left); the no-show job and the agenda read it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_presence'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'room_presence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('place', sa.String(length=6), nullable=False),
        sa.Column('who', sa.String(length=10), nullable=False),
        sa.Column('occupant_jid', sa.String(length=300), nullable=False),
        sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['appointment_id'], ['appointment.id'],
            name=op.f('fk_room_presence_appointment_id_appointment'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_presence')),
    )
    op.create_index(
        'uq_room_presence_stay', 'room_presence', ['appointment_id', 'place', 'occupant_jid', 'joined_at'],
        unique=True,
    )


def downgrade():
    op.drop_index('uq_room_presence_stay', table_name='room_presence')
    op.drop_table('room_presence')
