"""modes per booking: a service allows any of on site, video and phone; an appointment has one

The service's ``video`` flag becomes three flags (``offers_on_site``, ``offers_video``,
``offers_phone``; at least one set): video=True allows video, video=False on site. Each
appointment gets its ``mode``: video when it has a Jitsi room, else on site.

Revision ID: 0007_modes
Revises: 0006_places
Create Date: 2026-12-18 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_modes'
down_revision = "0007_hours_locations"
branch_labels = None
depends_on = None

MODES_CHECK = 'offers_on_site OR offers_video OR offers_phone'
MODE_CHECK = "mode IN ('on_site', 'video', 'phone')"

service = sa.table(
    'service', sa.column('video', sa.Boolean), sa.column('offers_on_site', sa.Boolean),
    sa.column('offers_video', sa.Boolean), sa.column('offers_phone', sa.Boolean),
)
appointment = sa.table('appointment', sa.column('mode', sa.String), sa.column('room', sa.String))


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    # Plain ADD COLUMN on SQLite (no batch copy: appointment's triggers and references stay).
    # SQLite tests a new column's CHECK against the rows already there, so the flag that
    # carries the "at least one mode" check comes last, after the data has moved.
    if _sqlite():
        op.execute('ALTER TABLE service ADD COLUMN offers_on_site BOOLEAN DEFAULT (false) NOT NULL')
        op.execute('ALTER TABLE service ADD COLUMN offers_video BOOLEAN DEFAULT (false) NOT NULL')
    else:
        for column in ('offers_on_site', 'offers_video'):
            op.add_column('service', sa.Column(column, sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.execute(service.update().values(offers_video=service.c.video, offers_on_site=sa.not_(service.c.video)))
    if _sqlite():
        op.execute(
            'ALTER TABLE service ADD COLUMN offers_phone BOOLEAN DEFAULT (false) NOT NULL '
            f'CONSTRAINT ck_service_offers_a_mode CHECK ({MODES_CHECK})'
        )
        op.execute('ALTER TABLE service DROP COLUMN video')
        op.execute(
            "ALTER TABLE appointment ADD COLUMN mode VARCHAR(10) DEFAULT 'on_site' NOT NULL "
            f'CONSTRAINT ck_appointment_mode_known CHECK ({MODE_CHECK})'
        )
    else:
        op.add_column('service', sa.Column('offers_phone', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        op.create_check_constraint(op.f('ck_service_offers_a_mode'), 'service', sa.text(MODES_CHECK))
        op.drop_column('service', 'video')
        op.add_column('appointment', sa.Column('mode', sa.String(length=10), server_default='on_site', nullable=False))
        op.create_check_constraint(op.f('ck_appointment_mode_known'), 'appointment', sa.text(MODE_CHECK))
    op.execute(appointment.update().where(appointment.c.room.is_not(None)).values(mode='video'))


def downgrade():
    # A service that allowed video keeps it; one that allowed only phone becomes on site.
    if _sqlite():
        op.execute('ALTER TABLE service ADD COLUMN video BOOLEAN DEFAULT (false) NOT NULL')
    else:
        op.add_column('service', sa.Column('video', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.execute(service.update().values(video=service.c.offers_video))
    if _sqlite():
        for table, column in (('appointment', 'mode'), ('service', 'offers_phone'),
                              ('service', 'offers_video'), ('service', 'offers_on_site')):
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
    else:
        op.drop_constraint(op.f('ck_appointment_mode_known'), 'appointment', type_='check')
        op.drop_column('appointment', 'mode')
        op.drop_constraint(op.f('ck_service_offers_a_mode'), 'service', type_='check')
        for column in ('offers_phone', 'offers_video', 'offers_on_site'):
            op.drop_column('service', column)
