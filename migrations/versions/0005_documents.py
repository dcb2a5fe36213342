"""documents a citizen hands in before a video appointment

One row per file: the file lies in DOCUMENTS_DIR under the random storage_name; the row
keeps the cleaned display name, the sniffed type, size, SHA-256 and upload time. Rows go
with their appointment (ON DELETE CASCADE); the files are removed by the application.

Revision ID: 0005_documents
Revises: 0004
Create Date: 2026-12-03 08:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_documents'
down_revision = '0005_guests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appointment_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('storage_name', sa.String(length=64), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('size_bytes > 0', name=op.f('ck_appointment_document_document_not_empty')),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/jpeg', 'image/png')",
            name=op.f('ck_appointment_document_document_type_known'),
        ),
        sa.ForeignKeyConstraint(
            ['appointment_id'], ['appointment.id'],
            name=op.f('fk_appointment_document_appointment_id_appointment'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_document')),
        sa.UniqueConstraint('storage_name', name=op.f('uq_appointment_document_storage_name')),
    )
    op.create_index(
        'ix_appointment_document_appointment_id', 'appointment_document', ['appointment_id'], unique=False
    )


def downgrade():
    op.drop_index('ix_appointment_document_appointment_id', table_name='appointment_document')
    op.drop_table('appointment_document')
