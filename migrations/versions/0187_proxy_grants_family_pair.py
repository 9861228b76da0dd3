"""proxy grants: one open grant from an invitation or a request per (principal, proxy account)

One account accepting several of a resident's invitations at once each found no grant and each inserted one:
four active grants for the same two people, and revoking one left the others in force. A partial unique index on
(resident_id, proxy_account_id) over the grants from invitations and requests that are active or waiting makes
the database keep one; flows.proxies answers the loser with the same 409 as a repeat.

Rows already in the table are made to fit first, oldest first:
- such a grant still `active` but past its end (`expires_at`), or still `requested` after the request's 7 days,
  is `expired` — it was not in force or answerable any more, and the pair could be granted anew;
- of the duplicates left, the oldest per pair stays; each other one is ended like a revocation: `revoked` (was
  active) or `declined` (was waiting), revoked_at now, revoked_by `migration:0187 duplicate`.

Revision ID: 0187
Revises: 0186
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0187"
down_revision = "0186"
branch_labels = None
depends_on = None

FAMILY = "basis NOT IN ('guardianship', 'written_authorisation')"
OPEN = FAMILY + " AND status IN ('active', 'requested', 'pending_principal')"
ENDED_BY = "migration:0187 duplicate"
REQUEST_DAYS = 7  # flows.proxy_requests.REQUEST_TTL


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    bind.execute(sa.text(f"UPDATE proxy_grants SET status = 'expired' WHERE {FAMILY} AND status = 'active' "
                         "AND expires_at <= :now"), {"now": now})
    bind.execute(sa.text(f"UPDATE proxy_grants SET status = 'expired' WHERE {FAMILY} AND status = 'requested' "
                         "AND created_at <= :asked_before"), {"asked_before": now - timedelta(days=REQUEST_DAYS)})
    rows = bind.execute(sa.text(f"SELECT id, resident_id, proxy_account_id, status FROM proxy_grants WHERE {OPEN} "
                                "ORDER BY resident_id, proxy_account_id, created_at, id")).all()
    seen = set()
    for grant_id, resident_id, proxy_account_id, status in rows:
        if (resident_id, proxy_account_id) not in seen:
            seen.add((resident_id, proxy_account_id))  # the oldest of the pair stays
            continue
        bind.execute(sa.text("UPDATE proxy_grants SET status = :status, revoked_at = :now, revoked_by = :by "
                             "WHERE id = :id"),
                     {"status": "revoked" if status == "active" else "declined", "now": now, "by": ENDED_BY,
                      "id": grant_id})
    op.create_index("uq_proxy_grants_family_pair", "proxy_grants", ["resident_id", "proxy_account_id"],
                    unique=True, postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("uq_proxy_grants_family_pair", table_name="proxy_grants")
