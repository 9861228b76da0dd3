"""benefit periods: at most one active or suspended benefit per program and person (a partial unique index);
stopped periods are unlimited, so a renewed certificate can start a new one

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('active', 'suspended')")


def upgrade() -> None:
    with op.batch_alter_table("benefits", schema=None) as batch_op:
        batch_op.drop_constraint("uq_benefits_program_resident_id", type_="unique")
    op.create_index("uq_benefits_open", "benefits", ["program", "resident_id"], unique=True,
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("uq_benefits_open", table_name="benefits")
    with op.batch_alter_table("benefits", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_benefits_program_resident_id", ["program", "resident_id"])
