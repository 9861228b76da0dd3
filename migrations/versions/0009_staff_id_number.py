"""staff members' own ID number (keyed hash, ciphertext, mask): the self-involvement rule can fire

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("id_enc", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("id_mask", sa.String(length=18), nullable=True))
        batch_op.create_index(batch_op.f("ix_staff_members_id_hash"), ["id_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_members_id_hash"))
        batch_op.drop_column("id_mask")
        batch_op.drop_column("id_enc")
        batch_op.drop_column("id_hash")
