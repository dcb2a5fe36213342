"""composite appointments: an appointment is for one or more services, each with its persons

Services say how many persons one appointment may bring (max_persons) and whether they
combine with the department's other combinable services (combinable).

Every existing appointment gets one item: its service, for one person. Every existing
service takes one person and is not combinable until an admin says so.

Revision ID: 0007_composite
Revises: 0006_places
Create Date: 2026-12-18 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_composite'
down_revision = "0007_modes"
branch_labels = None
depends_on = None

appointment = sa.table('appointment', sa.column('id', sa.Integer), sa.column('service_id', sa.Integer))
item = sa.table(
    'appointment_item', sa.column('appointment_id', sa.Integer), sa.column('service_id', sa.Integer),
    sa.column('persons', sa.Integer), sa.column('position', sa.Integer),
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    # Plain ADD COLUMN on SQLite (no batch copy of service: appointment refers to it, and a
    # copy would lose what refers to it), the check written inline.
    if _sqlite():
        op.execute(
            'ALTER TABLE service ADD COLUMN max_persons INTEGER DEFAULT 1 NOT NULL '
            'CONSTRAINT ck_service_max_persons_positive CHECK (max_persons >= 1)'
        )
        op.execute('ALTER TABLE service ADD COLUMN combinable BOOLEAN DEFAULT 0 NOT NULL')
    else:
        op.add_column('service', sa.Column('max_persons', sa.Integer(), server_default='1', nullable=False))
        op.add_column('service', sa.Column('combinable', sa.Boolean(), server_default=sa.false(), nullable=False))
        op.create_check_constraint('ck_service_max_persons_positive', 'service', 'max_persons >= 1')
    op.create_table(
        'appointment_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('persons', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.CheckConstraint('persons >= 1', name=op.f('ck_appointment_item_persons_positive')),
        sa.ForeignKeyConstraint(
            ['appointment_id'], ['appointment.id'],
            name=op.f('fk_appointment_item_appointment_id_appointment'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['service_id'], ['service.id'], name=op.f('fk_appointment_item_service_id_service')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_item')),
        sa.UniqueConstraint('appointment_id', 'service_id', name='uq_appointment_item_service'),
    )
    op.create_index(op.f('ix_appointment_item_appointment_id'), 'appointment_item', ['appointment_id'], unique=False)
    op.execute(item.insert().from_select(
        ['appointment_id', 'service_id', 'persons', 'position'],
        sa.select(appointment.c.id, appointment.c.service_id, sa.literal(1), sa.literal(0)),
    ))


def downgrade():
    op.drop_index(op.f('ix_appointment_item_appointment_id'), table_name='appointment_item')
    op.drop_table('appointment_item')
    if _sqlite():
        # SQLite 3.35+ drops a column in place, its own column CHECK with it; a batch copy
        # would lose what refers to service.
        op.execute('ALTER TABLE service DROP COLUMN combinable')
        op.execute('ALTER TABLE service DROP COLUMN max_persons')
    else:
        op.drop_constraint('ck_service_max_persons_positive', 'service', type_='check')
        op.drop_column('service', 'combinable')
        op.drop_column('service', 'max_persons')
