"""approvals: the resident (household) an approval is about

The approvals list filtered by jurisdiction in Python after reading the newest 200 approvals of the whole
city: with more than 200 pending elsewhere, a street's approver saw none of her own, and the list could not be
paged. An approval about one household now carries that resident's id (stamped when it is proposed, by its
kind), so the list joins the resident's place and filters and pages in SQL. Rows already in the table are
filled from their subject: `grant:<id>` (proxy grants), `benefit:<id>` (re-checks), `resident:<id>` (death
corrections). Approvals about no household (parameter changes, the roll's sign-off) stay NULL.

Revision ID: 0185
Revises: 0184
"""
import sqlalchemy as sa
from alembic import op

revision = "0185"
down_revision = "0184"
branch_labels = None
depends_on = None

# kind → (the table its subject names, the subject's prefix)
SUBJECTS = {"proxy_grant": ("proxy_grants", "grant:"), "benefit_recheck": ("benefits", "benefit:")}


def upgrade() -> None:
    op.add_column("approvals", sa.Column("resident_id", sa.Integer(), nullable=True))
    bind = op.get_bind()
    for kind, (table, prefix) in SUBJECTS.items():
        bind.execute(sa.text(f"UPDATE approvals SET resident_id = (SELECT s.resident_id FROM {table} s "
                             f"WHERE approvals.subject_ref = '{prefix}' || s.id) WHERE kind = :kind"), {"kind": kind})
    rows = bind.execute(sa.text("SELECT id, subject_ref FROM approvals WHERE kind = 'death_correction'")).all()
    for approval_id, subject_ref in rows:
        number = subject_ref.partition(":")[2]
        if number.isascii() and number.isdigit():
            bind.execute(sa.text("UPDATE approvals SET resident_id = :r WHERE id = :id"),
                         {"r": int(number), "id": approval_id})


def downgrade() -> None:
    op.drop_column("approvals", "resident_id")
