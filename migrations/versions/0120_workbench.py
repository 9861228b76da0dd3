"""workbench (issue 12): a forced password change at first sign-in, and claimed tasks (the inbox's pool)

Revision ID: 0120
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa


revision = "0120"
down_revision = "0111"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_members") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("staff_tasks") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.create_index("ix_staff_tasks_claimed_by", "staff_tasks", ["claimed_by"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_staff_tasks_claimed_by", table_name="staff_tasks")
    with op.batch_alter_table("staff_tasks") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
    with op.batch_alter_table("staff_members") as batch:
        batch.drop_column("must_change_password")
