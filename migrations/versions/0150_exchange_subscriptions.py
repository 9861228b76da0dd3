"""exchange subscriptions: callbacks, subscriptions (people / program), the publisher's bookkeeping (issue 15)

Revision ID: 0150
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa


revision = "0150"
down_revision = "0121"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_callbacks",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("base_url", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_table(
        "exchange_subscriptions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exchange_subscriptions_client_id", "exchange_subscriptions", ["client_id"], unique=False)
    op.create_table(
        "exchange_subscription_people",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subscription_id", sa.String(length=32), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("reference_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "id_hash", name="uq_exchange_sub_people"),
    )
    op.create_index("ix_exchange_sub_people_hash", "exchange_subscription_people", ["id_hash"], unique=False)
    op.create_table(
        "exchange_published",
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_key"),
    )
    op.create_table(
        "exchange_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_benefits_created_at", "benefits", ["created_at"], unique=False)
    op.create_index("ix_benefit_changes_created_at", "benefit_changes", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_benefit_changes_created_at", table_name="benefit_changes")
    op.drop_index("ix_benefits_created_at", table_name="benefits")
    op.drop_table("exchange_cursors")
    op.drop_table("exchange_published")
    op.drop_index("ix_exchange_sub_people_hash", table_name="exchange_subscription_people")
    op.drop_table("exchange_subscription_people")
    op.drop_index("ix_exchange_subscriptions_client_id", table_name="exchange_subscriptions")
    op.drop_table("exchange_subscriptions")
    op.drop_table("exchange_callbacks")
