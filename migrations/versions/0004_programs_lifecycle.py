"""programs lifecycle: disability certificates, deaths, hukou moves, economic records, payout accounts,
benefit changes, payroll runs and lines, step deadlines, public notices, objections, rate hits

Revision ID: 0004
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payroll_runs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=False),
    sa.Column('anomalies', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payroll_runs')),
    sa.UniqueConstraint('month', name=op.f('uq_payroll_runs_month'))
    )
    op.create_table('public_notices',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('application_id', sa.String(length=32), nullable=False),
    sa.Column('program', sa.String(length=40), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=False),
    sa.Column('masked_name', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_notices')),
    sa.UniqueConstraint('application_id', name=op.f('uq_public_notices_application_id'))
    )
    with op.batch_alter_table('public_notices', schema=None) as batch_op:
        batch_op.create_index('ix_public_notices_street', ['street_code', 'state', 'ends_on'], unique=False)

    op.create_table('rate_hits',
    sa.Column('bucket', sa.String(length=80), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_rate_hits'))
    )
    op.create_table('step_deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.String(length=32), nullable=False),
    sa.Column('step', sa.String(length=24), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('calendar_note', sa.String(length=120), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_step_deadlines')),
    sa.UniqueConstraint('application_id', 'step', name=op.f('uq_step_deadlines_application_id_step'))
    )
    with op.batch_alter_table('step_deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_step_deadlines_due', ['done_on', 'due_on'], unique=False)

    op.create_table('death_records',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('death_date', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_date', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_death_records_resident_id_residents')),
    sa.PrimaryKeyConstraint('resident_id', name=op.f('pk_death_records'))
    )
    op.create_table('disability_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('cert_hash', sa.String(length=64), nullable=False),
    sa.Column('cert_mask', sa.String(length=24), nullable=False),
    sa.Column('category', sa.String(length=2), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('expiry_date', sa.Date(), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_date', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_disability_certificates_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disability_certificates')),
    sa.UniqueConstraint('cert_hash', name=op.f('uq_disability_certificates_cert_hash'))
    )
    with op.batch_alter_table('disability_certificates', schema=None) as batch_op:
        batch_op.create_index('ix_disability_certificates_expiry', ['expiry_date'], unique=False)
        batch_op.create_index('ix_disability_certificates_resident', ['resident_id'], unique=False)

    op.create_table('economic_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('ref_hash', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_date', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_economic_records_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_economic_records')),
    sa.UniqueConstraint('resident_id', 'kind', 'period', 'ref_hash', name=op.f('uq_economic_records_resident_id_kind_period_ref_hash'))
    )
    with op.batch_alter_table('economic_records', schema=None) as batch_op:
        batch_op.create_index('ix_economic_records_resident', ['resident_id'], unique=False)

    op.create_table('hukou_moves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('move_date', sa.Date(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('area_code', sa.String(length=6), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_hukou_moves_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hukou_moves')),
    sa.UniqueConstraint('resident_id', 'move_date', 'direction', name=op.f('uq_hukou_moves_resident_id_move_date_direction'))
    )
    with op.batch_alter_table('hukou_moves', schema=None) as batch_op:
        batch_op.create_index('ix_hukou_moves_date', ['move_date'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('notice_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['public_notices.id'], name=op.f('fk_objections_notice_id_public_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections')),
    sa.UniqueConstraint('notice_id', 'account_id', name=op.f('uq_objections_notice_id_account_id'))
    )
    op.create_table('payout_accounts',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('bank_name', sa.String(length=64), nullable=False),
    sa.Column('number_enc', sa.LargeBinary(), nullable=False),
    sa.Column('number_mask', sa.String(length=40), nullable=False),
    sa.Column('number_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.String(length=32), nullable=True),
    sa.Column('source_date', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_payout_accounts_resident_id_residents')),
    sa.PrimaryKeyConstraint('resident_id', name=op.f('pk_payout_accounts'))
    )
    op.create_table('payroll_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('program', sa.String(length=40), nullable=False),
    sa.Column('benefit_id', sa.String(length=32), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('arrears_fen', sa.Integer(), nullable=False),
    sa.Column('covered_from', sa.String(length=7), nullable=False),
    sa.Column('covered_to', sa.String(length=7), nullable=False),
    sa.Column('months', sa.JSON(), nullable=False),
    sa.Column('account_mask', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_payroll_lines_resident_id_residents')),
    sa.ForeignKeyConstraint(['run_id'], ['payroll_runs.id'], name=op.f('fk_payroll_lines_run_id_payroll_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payroll_lines')),
    sa.UniqueConstraint('run_id', 'benefit_id', name=op.f('uq_payroll_lines_run_id_benefit_id'))
    )
    with op.batch_alter_table('payroll_lines', schema=None) as batch_op:
        batch_op.create_index('ix_payroll_lines_benefit', ['benefit_id'], unique=False)

    op.create_table('benefit_changes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('benefit_id', sa.String(length=32), nullable=False),
    sa.Column('change_key', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('effective_month', sa.String(length=7), nullable=False),
    sa.Column('old_tier', sa.String(length=16), nullable=False),
    sa.Column('old_amount_fen', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('monthly_amount_fen', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('trace', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['benefit_id'], ['benefits.id'], name=op.f('fk_benefit_changes_benefit_id_benefits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_changes')),
    sa.UniqueConstraint('benefit_id', 'change_key', name=op.f('uq_benefit_changes_benefit_id_change_key'))
    )
    with op.batch_alter_table('benefit_changes', schema=None) as batch_op:
        batch_op.create_index('ix_benefit_changes_benefit', ['benefit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('benefit_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_benefit_changes_benefit')

    op.drop_table('benefit_changes')
    with op.batch_alter_table('payroll_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_payroll_lines_benefit')

    op.drop_table('payroll_lines')
    op.drop_table('payout_accounts')
    op.drop_table('objections')
    with op.batch_alter_table('hukou_moves', schema=None) as batch_op:
        batch_op.drop_index('ix_hukou_moves_date')

    op.drop_table('hukou_moves')
    with op.batch_alter_table('economic_records', schema=None) as batch_op:
        batch_op.drop_index('ix_economic_records_resident')

    op.drop_table('economic_records')
    with op.batch_alter_table('disability_certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_disability_certificates_resident')
        batch_op.drop_index('ix_disability_certificates_expiry')

    op.drop_table('disability_certificates')
    op.drop_table('death_records')
    with op.batch_alter_table('step_deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_step_deadlines_due')

    op.drop_table('step_deadlines')
    op.drop_table('rate_hits')
    with op.batch_alter_table('public_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_public_notices_street')

    op.drop_table('public_notices')
    op.drop_table('payroll_runs')
