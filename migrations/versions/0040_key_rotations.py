"""data-key rotation state (key_rotations) and economic_records.ref_enc (so ref_hash can be re-keyed)

Revision ID: 0040
Revises: 0050
"""
from alembic import op
import sqlalchemy as sa


revision = "0040"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_rotations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("to_kid", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("last_key", sa.String(length=160), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("economic_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("economic_records", schema=None) as batch_op:
        batch_op.drop_column("ref_enc")
    op.drop_table("key_rotations")
