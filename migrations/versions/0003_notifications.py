"""notifications: resident notification preferences, outbox look-up by provider msgid

Revision ID: 0003
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_prefs",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("proxy_mode", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"],
                                name=op.f("fk_notification_prefs_resident_id_residents")),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_notification_prefs")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_provider_msgid", ["provider_msgid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_provider_msgid")
    op.drop_table("notification_prefs")
