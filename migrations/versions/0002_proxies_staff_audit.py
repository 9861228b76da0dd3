"""proxy grants, staff members, audit trail

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('proxy_grants',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('proxy_account_id', sa.String(length=32), nullable=False),
    sa.Column('proxy_resident_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('programs', sa.JSON(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('basis', sa.String(length=32), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('approved_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['proxy_account_id'], ['accounts.id'], name=op.f('fk_proxy_grants_proxy_account_id_accounts')),
    sa.ForeignKeyConstraint(['proxy_resident_id'], ['residents.id'], name=op.f('fk_proxy_grants_proxy_resident_id_residents')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_proxy_grants_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_grants'))
    )
    op.create_index('ix_proxy_grants_resident', 'proxy_grants', ['resident_id', 'status'])
    op.create_index('ix_proxy_grants_proxy', 'proxy_grants', ['proxy_account_id', 'status'])

    op.create_table('proxy_invitations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('created_by_account_id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('programs', sa.JSON(), nullable=False),
    sa.Column('grant_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('used_by_account_id', sa.String(length=32), nullable=True),
    sa.Column('grant_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['created_by_account_id'], ['accounts.id'], name=op.f('fk_proxy_invitations_created_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_proxy_invitations_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_proxy_invitations_token_hash'))
    )

    op.create_table('staff_members',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=True),
    sa.Column('community_code', sa.String(length=12), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_staff_members_account_id_accounts')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_staff_members_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_members')),
    sa.UniqueConstraint('account_id', name=op.f('uq_staff_members_account_id')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_members_username'))
    )

    op.create_table('audit_events',
    sa.Column('seq', BIGINT, autoincrement=False, nullable=False),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('on_behalf_of', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_ref', sa.String(length=96), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('source_ip', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events'))
    )
    op.create_index('ix_audit_events_on_behalf_of', 'audit_events', ['on_behalf_of', 'seq'])
    op.create_index('ix_audit_events_actor', 'audit_events', ['actor', 'seq'])
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', BIGINT, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.execute(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')")

    # Append-only, second guard (the first is the DB role's privileges, see docs): updates are refused.
    # Deletes are refused on PostgreSQL (test clean-up there uses TRUNCATE); SQLite test clean-up deletes rows.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$;
        """)
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                   "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END")

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_via_grant', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('confirmed_via_grant')
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_table('audit_head')
    op.drop_index('ix_audit_events_actor', table_name='audit_events')
    op.drop_index('ix_audit_events_on_behalf_of', table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('staff_members')
    op.drop_table('proxy_invitations')
    op.drop_index('ix_proxy_grants_proxy', table_name='proxy_grants')
    op.drop_index('ix_proxy_grants_resident', table_name='proxy_grants')
    op.drop_table('proxy_grants')
