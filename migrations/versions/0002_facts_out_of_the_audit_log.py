"""facts out of the audit log: when the citizen was last told the time, which conflicts were kept

The appointment's time_told_at (when the citizen last heard of its time: the confirmation
or the mail about a move) and the kept_conflict table (a stranded appointment the clerk
kept as it is, for exactly that conflict) used to be read back from the audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 18:40:00.000000

The audit log stays as it is (who did what, when); the new column and table are filled
from it once, here, so reminders and the conflicts page answer as before.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)

appointment = sa.table(
    'appointment',
    sa.column('id', sa.Integer),
    sa.column('confirmed_at', INSTANT),
    sa.column('time_told_at', INSTANT),
)
audit_event = sa.table(
    'audit_event',
    sa.column('at', INSTANT),
    sa.column('actor_id', sa.Integer),
    sa.column('action', sa.String),
    sa.column('object_type', sa.String),
    sa.column('object_id', sa.Integer),
    sa.column('details', sa.JSON),
)
kept_conflict = sa.table(
    'kept_conflict',
    sa.column('appointment_id', sa.Integer),
    sa.column('start_at', INSTANT),
    sa.column('clerk_id', sa.Integer),
    sa.column('conflict', sa.Text),
    sa.column('kept_at', INSTANT),
    sa.column('kept_by_id', sa.Integer),
)


def upgrade():
    # A plain ADD COLUMN (no batch copy of the table): on SQLite a copy would lose the
    # triggers that keep a clerk's appointments from overlapping.
    op.add_column('appointment', sa.Column('time_told_at', INSTANT, nullable=True))
    op.create_table('kept_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clerk_id', sa.Integer(), nullable=False),
    sa.Column('conflict', sa.Text(), nullable=False),
    sa.Column('kept_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kept_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_kept_conflict_appointment_id_appointment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clerk_id'], ['staff_user.id'], name=op.f('fk_kept_conflict_clerk_id_staff_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kept_by_id'], ['staff_user.id'], name=op.f('fk_kept_conflict_kept_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_conflict'))
    )
    with op.batch_alter_table('kept_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kept_conflict_appointment_id'), ['appointment_id'], unique=False)
    _backfill()


def _backfill():
    bind = op.get_bind()
    # Told at the confirmation, or later at the last move.
    bind.execute(
        appointment.update()
        .where(appointment.c.confirmed_at.is_not(None))
        .values(time_told_at=appointment.c.confirmed_at)
    )
    moved = bind.execute(
        sa.select(audit_event.c.object_id, sa.func.max(audit_event.c.at, type_=INSTANT))
        .where(audit_event.c.action == 'appointment.rescheduled', audit_event.c.object_type == 'appointment')
        .group_by(audit_event.c.object_id)
    ).all()
    for appointment_id, at in moved:
        bind.execute(
            appointment.update()
            .where(
                appointment.c.id == appointment_id,
                sa.or_(appointment.c.time_told_at.is_(None), appointment.c.time_told_at < at),
            )
            .values(time_told_at=at)
        )
    # Each "kept as it is" names the appointment's time, clerk and conflict of that moment.
    existing = sa.select(appointment.c.id)
    kept = bind.execute(
        sa.select(audit_event.c.object_id, audit_event.c.at, audit_event.c.actor_id, audit_event.c.details)
        .where(
            audit_event.c.action == 'appointment.kept',
            audit_event.c.object_type == 'appointment',
            audit_event.c.object_id.in_(existing),
        )
    ).all()
    rows = []
    for appointment_id, at, actor_id, details in kept:
        details = details or {}
        if not details.get('start') or details.get('clerk_id') is None:
            continue
        rows.append({
            'appointment_id': appointment_id,
            'start_at': _instant(bind, datetime.fromisoformat(details['start'])),
            'clerk_id': int(details['clerk_id']),
            'conflict': details.get('conflict') or '',
            'kept_at': at,
            'kept_by_id': actor_id,
        })
    if rows:
        bind.execute(kept_conflict.insert(), rows)


def _instant(bind, value: datetime) -> datetime:
    """As the application stores an instant: UTC, and naive on SQLite (no time zones there)."""
    value = value.astimezone(UTC)
    return value.replace(tzinfo=None) if bind.dialect.name == 'sqlite' else value


def downgrade():
    with op.batch_alter_table('kept_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_conflict_appointment_id'))
    op.drop_table('kept_conflict')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite 3.35+ drops a column in place; a batch copy would lose the overlap triggers.
        op.execute('ALTER TABLE appointment DROP COLUMN time_told_at')
    else:
        op.drop_column('appointment', 'time_told_at')
