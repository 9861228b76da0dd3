"""grants belong to the proxy person; proxy requests; the resident feed (issue 9 items 2, 3, 5)

- identity_bindings: the history of bindings (backfilled from the accounts bound today);
- audit_subjects: whose record each audit event touched (backfilled from on_behalf_of);
- proxy_requests, proxy_request_quotas: requests that look the same whatever matched, and their limits;
- proxy_grants.proxy_resident_id backfilled from the proxy's account where it was missing.

Revision ID: 0008
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("bound_at", sa.DateTime(), nullable=False),
        sa.Column("unbound_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_bindings")),
    )
    op.create_index("ix_identity_bindings_account", "identity_bindings", ["account_id", "bound_at"])
    op.create_index("ix_identity_bindings_resident", "identity_bindings", ["resident_id", "bound_at"])
    op.create_table(
        "audit_subjects",
        sa.Column("resident_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("resident_id", "seq", name=op.f("pk_audit_subjects")),
    )
    op.create_table(
        "proxy_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("requester_account_id", sa.String(length=32), nullable=False),
        sa.Column("requester_resident_id", sa.Integer(), nullable=False),
        sa.Column("target_id_hash", sa.String(length=64), nullable=False),
        sa.Column("target_resident_id", sa.Integer(), nullable=True),
        sa.Column("name_masked", sa.String(length=64), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("programs", sa.JSON(), nullable=False),
        sa.Column("grant_id", sa.String(length=32), nullable=True),
        sa.Column("messaged", sa.Boolean(), nullable=False),
        sa.Column("open_key", sa.String(length=140), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["requester_resident_id"], ["residents.id"],
                                name=op.f("fk_proxy_requests_requester_resident_id_residents")),
        sa.ForeignKeyConstraint(["target_resident_id"], ["residents.id"],
                                name=op.f("fk_proxy_requests_target_resident_id_residents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_requests")),
        sa.UniqueConstraint("open_key", name=op.f("uq_proxy_requests_open_key")),
    )
    op.create_index("ix_proxy_requests_requester", "proxy_requests", ["requester_resident_id", "created_at"])
    op.create_index("ix_proxy_requests_target", "proxy_requests", ["target_resident_id", "requester_resident_id"])
    op.create_table(
        "proxy_request_quotas",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("t1", sa.DateTime(), nullable=True),
        sa.Column("t2", sa.DateTime(), nullable=True),
        sa.Column("t3", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_proxy_request_quotas")),
    )
    op.execute(sa.text(
        "INSERT INTO identity_bindings (account_id, resident_id, bound_at) "
        "SELECT id, resident_id, COALESCE(bound_at, created_at) FROM accounts WHERE resident_id IS NOT NULL"))
    op.execute(sa.text(
        "INSERT INTO audit_subjects (resident_id, seq, actor_kind) "
        "SELECT CAST(SUBSTR(on_behalf_of, 10) AS INTEGER), seq, "
        "CASE WHEN actor LIKE 'staff:%' THEN 'staff' ELSE 'proxy' END "
        "FROM audit_events WHERE on_behalf_of LIKE 'resident:%'"))
    op.execute(sa.text(
        "UPDATE proxy_grants SET proxy_resident_id = "
        "(SELECT accounts.resident_id FROM accounts WHERE accounts.id = proxy_grants.proxy_account_id) "
        "WHERE proxy_resident_id IS NULL"))


def downgrade() -> None:
    op.drop_table("proxy_request_quotas")
    op.drop_index("ix_proxy_requests_target", table_name="proxy_requests")
    op.drop_index("ix_proxy_requests_requester", table_name="proxy_requests")
    op.drop_table("proxy_requests")
    op.drop_table("audit_subjects")
    op.drop_index("ix_identity_bindings_resident", table_name="identity_bindings")
    op.drop_index("ix_identity_bindings_account", table_name="identity_bindings")
    op.drop_table("identity_bindings")
