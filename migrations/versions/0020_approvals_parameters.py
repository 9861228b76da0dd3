"""maker-checker approvals (generic: kind, payload, maker, checker, state) and approved parameter values;
payout grants already waiting for a second approval get their approval row

Revision ID: 0020
Revises: 0030
"""
from alembic import op
import sqlalchemy as sa


revision = "0020"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_ref", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("maker", sa.String(length=64), nullable=False),
        sa.Column("checker", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_approvals_kind", "approvals", ["kind"])
    op.create_index("ix_approvals_state", "approvals", ["state"])
    op.create_index("uq_approvals_pending_subject", "approvals", ["kind", "subject_ref"], unique=True,
                    postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))
    op.create_table(
        "parameter_values",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("effective_month", sa.String(length=7), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("arrears", sa.Boolean(), nullable=False),
        sa.Column("approval_id", sa.String(length=32), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_parameter_values_program", "parameter_values", ["program"])
    # Payout grants already waiting: their approval row (maker = who recorded the grant).
    op.execute(sa.text(
        "INSERT INTO approvals (id, kind, subject_ref, payload, maker, state, created_at) "
        "SELECT substr(id, 1, 32), 'proxy_grant', 'grant:' || id, '{}', created_by, 'pending', created_at "
        "FROM proxy_grants WHERE status = 'pending_approval'"))


def downgrade() -> None:
    op.drop_index("ix_parameter_values_program", table_name="parameter_values")
    op.drop_table("parameter_values")
    op.drop_index("uq_approvals_pending_subject", table_name="approvals")
    op.drop_index("ix_approvals_state", table_name="approvals")
    op.drop_index("ix_approvals_kind", table_name="approvals")
    op.drop_table("approvals")
