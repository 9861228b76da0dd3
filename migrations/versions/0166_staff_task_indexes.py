"""staff tasks: indexes for the inbox (open tasks of a street, district or community by deadline) and by case

Revision ID: 0166
Revises: 0165
"""
from alembic import op


revision = "0166"
down_revision = "0165"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_staff_tasks_street_open": ["street_code", "state", "due_at"],
    "ix_staff_tasks_district_open": ["district_code", "state", "due_at"],
    "ix_staff_tasks_community_open": ["community_code", "state", "due_at"],
    "ix_staff_tasks_application": ["application_id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "staff_tasks", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="staff_tasks")
