"""proxy grants: one open staff-recorded grant per (principal, proxy person)

Staff recording the same guardianship at once (twenty requests in one second) each found no grant and each
inserted one: three identical active grants for the same two people. A partial unique index on
(resident_id, proxy_resident_id) over staff-recorded grants that are active or waiting for the second approval
makes the database keep one; flows.proxies.record_by_staff answers the loser with the same 409 as a repeat.

Rows already in the table are made to fit first, oldest first:
- a staff grant still `active` but past its end (`expires_at`) is `expired` — it was not in force any more, and
  staff could record the pair anew, so an expired and a newer grant may both be `active` here;
- of the duplicates left, the oldest per pair stays; each other one is ended like a revocation: `revoked`
  (was active) or `declined` (was waiting for approval, whose pending approval is withdrawn), revoked_at now,
  revoked_by `migration:0184 duplicate`.

Revision ID: 0184
Revises: 0183
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0184"
down_revision = "0183"
branch_labels = None
depends_on = None

STAFF = "basis IN ('guardianship', 'written_authorisation')"
OPEN = STAFF + " AND status IN ('active', 'pending_approval')"
ENDED_BY = "migration:0184 duplicate"


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    bind.execute(sa.text(f"UPDATE proxy_grants SET status = 'expired' WHERE {STAFF} AND status = 'active' "
                         "AND expires_at <= :now"), {"now": now})
    rows = bind.execute(sa.text(f"SELECT id, resident_id, proxy_resident_id, status FROM proxy_grants "
                                f"WHERE {OPEN} AND proxy_resident_id IS NOT NULL "
                                "ORDER BY resident_id, proxy_resident_id, created_at, id")).all()
    seen = set()
    for grant_id, resident_id, proxy_resident_id, status in rows:
        if (resident_id, proxy_resident_id) not in seen:
            seen.add((resident_id, proxy_resident_id))  # the oldest of the pair stays
            continue
        bind.execute(sa.text("UPDATE proxy_grants SET status = :status, revoked_at = :now, revoked_by = :by "
                             "WHERE id = :id"),
                     {"status": "revoked" if status == "active" else "declined", "now": now, "by": ENDED_BY,
                      "id": grant_id})
        if status == "pending_approval":
            bind.execute(sa.text("UPDATE approvals SET state = 'withdrawn', decided_at = :now "
                                 "WHERE kind = 'proxy_grant' AND subject_ref = :ref AND state = 'pending'"),
                         {"now": now, "ref": f"grant:{grant_id}"})
    op.create_index("uq_proxy_grants_staff_pair", "proxy_grants", ["resident_id", "proxy_resident_id"],
                    unique=True, postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("uq_proxy_grants_staff_pair", table_name="proxy_grants")
