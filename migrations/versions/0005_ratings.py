"""service ratings (好差评)

Revision ID: 0005
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_ratings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("rater_account_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("application_state", sa.String(length=16), nullable=False),
        sa.Column("follow_up_task_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_service_ratings_application_id_applications")),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_service_ratings_resident_id_residents")),
        sa.ForeignKeyConstraint(["rater_account_id"], ["accounts.id"],
                                name=op.f("fk_service_ratings_rater_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_ratings")),
        sa.UniqueConstraint("application_id", "rater_account_id",
                            name=op.f("uq_service_ratings_application_id_rater_account_id")),
    )
    with op.batch_alter_table("service_ratings", schema=None) as batch_op:
        batch_op.create_index("ix_service_ratings_program_level", ["program", "level"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_service_ratings_program_level")
    op.drop_table("service_ratings")
