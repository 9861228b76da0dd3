"""the data exchange: partner clients, keys, message ids, pushed records; delayed feed entries

Revision ID: 0030
Revises: 0040
"""
from alembic import op
import sqlalchemy as sa


revision = "0030"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_clients",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("per_minute", sa.Integer(), nullable=False),
        sa.Column("per_day", sa.Integer(), nullable=False),
        sa.Column("pia_ref", sa.String(length=64), nullable=False),
        sa.Column("agreement_ref", sa.String(length=64), nullable=False),
        sa.Column("agreement_expires", sa.Date(), nullable=False),
        sa.Column("contact", sa.String(length=128), nullable=False),
        sa.Column("death_source", sa.String(length=32), nullable=True),
        sa.Column("webhook_secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "exchange_keys",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_exchange_keys_client_id", "exchange_keys", ["client_id"])
    op.create_table(
        "exchange_messages",
        sa.Column("client_id", sa.String(length=40), primary_key=True),
        sa.Column("message_id", sa.String(length=64), primary_key=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_exchange_messages_created_at", "exchange_messages", ["created_at"])
    op.create_table(
        "exchange_records",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("dataset", sa.String(length=32), nullable=False),
        sa.Column("reference_id", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("effect", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("client_id", "dataset", "reference_id", name="uq_exchange_records_key"),
    )
    op.create_index("ix_exchange_records_state", "exchange_records", ["state", "created_at"])
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visible_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.drop_column("visible_at")
    op.drop_table("exchange_records")
    op.drop_table("exchange_messages")
    op.drop_table("exchange_keys")
    op.drop_table("exchange_clients")
