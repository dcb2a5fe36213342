"""weekly hours at a location, reserved hours for the phone centre, an appointment's location

A clerk's weekly hours name the location they are worked at (None: video and phone only) and
whether they are reserved for bookings by staff and the phone centre; a department says how
many hours before their start reserved hours are offered to the public (48). Existing hours
move to the default location (slug ``buergerservice``, made by 0006) when it exists, so
today's on-site services keep their slots; existing appointments of on-site services are
held at their service's location.

Revision ID: 0007_hours_locations
Revises: 0006_places
Create Date: 2026-12-18 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_hours_locations'
down_revision = "0007_department_admins"
branch_labels = None
depends_on = None

DEFAULT_SLUG = 'buergerservice'

# (table, column) of the new references to a location.
LOCATION_COLUMNS = (('weekly_hours', 'location_id'), ('appointment', 'location_id'))

location = sa.table('location', sa.column('id', sa.Integer), sa.column('slug', sa.String))
weekly_hours = sa.table('weekly_hours', sa.column('location_id', sa.Integer))
service = sa.table(
    'service', sa.column('id', sa.Integer), sa.column('video', sa.Boolean), sa.column('location_id', sa.Integer)
)
appointment = sa.table('appointment', sa.column('service_id', sa.Integer), sa.column('location_id', sa.Integer))


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    # Plain ADD COLUMN on SQLite, as in 0006: a batch copy of appointment would lose the
    # triggers that refuse overlapping appointments.
    for table, column in LOCATION_COLUMNS:
        if _sqlite():
            op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES location (id)')
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(f'fk_{table}_{column}_location', table, 'location', [column], ['id'])
        op.create_index(f'ix_{table}_{column}', table, [column], unique=False)
    op.add_column('weekly_hours', sa.Column('reserved', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column(
        'department', sa.Column('reserved_release_hours', sa.Integer(), server_default='48', nullable=False)
    )

    connection = op.get_bind()
    default_location = connection.scalar(sa.select(location.c.id).where(location.c.slug == DEFAULT_SLUG))
    if default_location is not None:
        connection.execute(weekly_hours.update().values(location_id=default_location))
    on_site_location = (
        sa.select(service.c.location_id)
        .where(service.c.id == appointment.c.service_id, service.c.video.is_(False))
        .scalar_subquery()
    )
    connection.execute(appointment.update().values(location_id=on_site_location))


def downgrade():
    for table, column in (('department', 'reserved_release_hours'), ('weekly_hours', 'reserved')):
        if _sqlite():
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
        else:
            op.drop_column(table, column)
    for table, column in reversed(LOCATION_COLUMNS):
        op.drop_index(f'ix_{table}_{column}', table_name=table)
        if _sqlite():
            # SQLite 3.35+ drops a column in place; a batch copy would lose what refers to the table.
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
        else:
            op.drop_constraint(f'fk_{table}_{column}_location', table, type_='foreignkey')
            op.drop_column(table, column)
