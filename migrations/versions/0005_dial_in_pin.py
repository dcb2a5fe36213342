"""dial-in by phone: the keyed hash of each video appointment's conference PIN

The PIN is derived from SECRET_KEY and the appointment's uid (visits/video/dial_in.py); the
column holds only its keyed hash (unique), which is what a look-up by PIN needs. Video
appointments that exist already get theirs here, derived with the SECRET_KEY of the app
that runs the migration (the same key the app uses, so their PINs work at once); an
anonymised one gets none, and neither does one whose PIN another took first (vanishingly
rare; that appointment then simply offers no dial-in).

Revision ID: 0005_dial_in
Revises: 0004
Create Date: 2026-12-10 10:00:00.000000
"""
import hashlib
import hmac

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0005_dial_in'
down_revision = '0005_documents'
branch_labels = None
depends_on = None

appointment = sa.table(
    'appointment',
    sa.column('id', sa.Integer),
    sa.column('uid', sa.String),
    sa.column('room', sa.String),
    sa.column('anonymised_at', sa.DateTime(timezone=True)),
    sa.column('dial_in_pin_hash', sa.String),
)


# A copy of visits/video/dial_in.py at the time of this migration (derive_pin, pin_hash):
# a migration must not change when the code changes later. tests/video/test_dial_in.py
# checks that both agree.
def _derive_pin(secret_key: str, uid: str) -> str:
    digest = hmac.new(secret_key.encode(), f"dial-in-pin:{uid}".encode(), hashlib.sha256).digest()
    return str(10**9 + int.from_bytes(digest, "big") % (9 * 10**9))


def _pin_hash(secret_key: str, pin: str) -> str:
    return hmac.new(secret_key.encode(), f"dial-in-pin-hash:{pin}".encode(), hashlib.sha256).hexdigest()


UNIQUE = 'uq_appointment_dial_in_pin_hash'


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    # A plain ADD COLUMN (no batch copy of the table): on SQLite a copy would lose the
    # triggers that keep a clerk's appointments from overlapping. SQLite cannot add a
    # constraint to a table; a unique index is what its UNIQUE would be anyway.
    op.add_column('appointment', sa.Column('dial_in_pin_hash', sa.String(length=64), nullable=True))
    if _sqlite():
        op.create_index(UNIQUE, 'appointment', ['dial_in_pin_hash'], unique=True)
    else:
        op.create_unique_constraint(UNIQUE, 'appointment', ['dial_in_pin_hash'])

    secret_key = current_app.config['SECRET_KEY']
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(appointment.c.id, appointment.c.uid)
        .where(appointment.c.room.is_not(None), appointment.c.anonymised_at.is_(None))
        .order_by(appointment.c.id)
    ).all()
    taken: set[str] = set()
    for row in rows:
        pin_hash = _pin_hash(secret_key, _derive_pin(secret_key, row.uid))
        if pin_hash in taken:
            continue
        taken.add(pin_hash)
        connection.execute(
            appointment.update().where(appointment.c.id == row.id).values(dial_in_pin_hash=pin_hash)
        )


def downgrade():
    if _sqlite():
        # SQLite 3.35+ drops a column in place; a batch copy would lose the overlap triggers.
        op.drop_index(UNIQUE, table_name='appointment')
        op.execute('ALTER TABLE appointment DROP COLUMN dial_in_pin_hash')
    else:
        op.drop_constraint(UNIQUE, 'appointment', type_='unique')
        op.drop_column('appointment', 'dial_in_pin_hash')
