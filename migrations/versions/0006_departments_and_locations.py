"""departments, locations and closing days; services and staff belong to a department

Existing data moves into one default department ("Bürgerservice" / "Citizens' service",
slug ``buergerservice``) and one default location of it, whose address is the ``address``
of the first service that has one (else empty); every service and staff member is set to
them.

Revision ID: 0006_places
Revises: 0005_dial_in
Create Date: 2026-12-17 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_places'
down_revision = '0005_dial_in'
branch_labels = None
depends_on = None

DEFAULT_SLUG = 'buergerservice'

# (table, column, referred table) of the new foreign-key columns on existing tables.
NEW_COLUMNS = (
    ('service', 'department_id', 'department'),
    ('service', 'location_id', 'location'),
    ('staff_user', 'department_id', 'department'),
)

department = sa.table(
    'department', sa.column('id', sa.Integer), sa.column('slug', sa.String), sa.column('name_de', sa.String),
    sa.column('name_en', sa.String), sa.column('active', sa.Boolean),
)
location = sa.table(
    'location', *(sa.column(name, sa.String) for name in (
        'slug', 'name_de', 'name_en', 'street', 'postcode', 'city', 'directions_de', 'directions_en',
        'opening_hours_de', 'opening_hours_en',
    )),
    sa.column('id', sa.Integer), sa.column('department_id', sa.Integer),
    sa.column('step_free', sa.Boolean), sa.column('hearing_loop', sa.Boolean),
)
service = sa.table(
    'service', sa.column('id', sa.Integer), sa.column('address', sa.String),
    sa.column('department_id', sa.Integer), sa.column('location_id', sa.Integer),
)
staff_user = sa.table('staff_user', sa.column('id', sa.Integer), sa.column('department_id', sa.Integer))


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    op.create_table(
        'department',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('name_de', sa.String(length=200), nullable=False),
        sa.Column('name_en', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_department')),
        sa.UniqueConstraint('slug', name=op.f('uq_department_slug')),
    )
    op.create_table(
        'location',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('name_de', sa.String(length=200), nullable=False),
        sa.Column('name_en', sa.String(length=200), nullable=False),
        sa.Column('street', sa.String(length=200), nullable=False),
        sa.Column('postcode', sa.String(length=10), nullable=False),
        sa.Column('city', sa.String(length=100), nullable=False),
        sa.Column('directions_de', sa.Text(), nullable=False),
        sa.Column('directions_en', sa.Text(), nullable=False),
        sa.Column('step_free', sa.Boolean(), nullable=False),
        sa.Column('hearing_loop', sa.Boolean(), nullable=False),
        sa.Column('opening_hours_de', sa.Text(), nullable=False),
        sa.Column('opening_hours_en', sa.Text(), nullable=False),
        sa.Column('latitude', sa.Float(), nullable=True),
        sa.Column('longitude', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ['department_id'], ['department.id'], name=op.f('fk_location_department_id_department')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
        sa.UniqueConstraint('slug', name=op.f('uq_location_slug')),
    )
    op.create_index(op.f('ix_location_department_id'), 'location', ['department_id'], unique=False)
    op.create_table(
        'closing_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('location_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('from_time', sa.Time(), nullable=True),
        sa.Column('until_time', sa.Time(), nullable=True),
        sa.Column('reason_de', sa.String(length=200), nullable=False),
        sa.Column('reason_en', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            'from_time IS NULL OR until_time IS NULL OR until_time > from_time',
            name=op.f('ck_closing_day_ends_after_start'),
        ),
        sa.ForeignKeyConstraint(
            ['location_id'], ['location.id'], name=op.f('fk_closing_day_location_id_location'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_closing_day')),
    )
    op.create_index('ix_closing_day_location_day', 'closing_day', ['location_id', 'day'], unique=False)

    # Plain ADD COLUMN on SQLite (no batch copy of the tables: appointment refers to them,
    # and a copy would lose what refers to it); the reference is written inline there.
    for table, column, referred in NEW_COLUMNS:
        if _sqlite():
            op.execute(f'ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {referred} (id)')
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(f'fk_{table}_{column}_{referred}', table, referred, [column], ['id'])
        op.create_index(f'ix_{table}_{column}', table, [column], unique=False)

    connection = op.get_bind()
    address = connection.scalar(
        sa.select(service.c.address)
        .where(service.c.address.is_not(None), service.c.address != '')
        .order_by(service.c.id)
        .limit(1)
    ) or ''
    connection.execute(department.insert().values(
        slug=DEFAULT_SLUG, name_de='Bürgerservice', name_en="Citizens' service", active=True
    ))
    department_id = connection.scalar(sa.select(department.c.id).where(department.c.slug == DEFAULT_SLUG))
    connection.execute(location.insert().values(
        slug=DEFAULT_SLUG, department_id=department_id, name_de='Bürgerservice', name_en="Citizens' service",
        street=address, postcode='', city='', directions_de='', directions_en='', step_free=False,
        hearing_loop=False, opening_hours_de='', opening_hours_en='',
    ))
    location_id = connection.scalar(sa.select(location.c.id).where(location.c.slug == DEFAULT_SLUG))
    connection.execute(service.update().values(department_id=department_id, location_id=location_id))
    connection.execute(staff_user.update().values(department_id=department_id))


def downgrade():
    for table, column, referred in reversed(NEW_COLUMNS):
        op.drop_index(f'ix_{table}_{column}', table_name=table)
        if _sqlite():
            # SQLite 3.35+ drops a column in place; a batch copy would lose what refers to the table.
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
        else:
            op.drop_constraint(f'fk_{table}_{column}_{referred}', table, type_='foreignkey')
            op.drop_column(table, column)
    op.drop_index('ix_closing_day_location_day', table_name='closing_day')
    op.drop_table('closing_day')
    op.drop_index(op.f('ix_location_department_id'), table_name='location')
    op.drop_table('location')
    op.drop_table('department')
