"""ratings and monthly report: staff rate a resolution at confirmation; the city's
monthly report is kept (XLSX and PDF bytes) one row per month

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk_core.models


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ticket_rating',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('rater_id', sa.Integer(), nullable=True),
        sa.Column('student_id', sa.Integer(), nullable=True),
        sa.Column('created_at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_ticket_rating_rating')),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'],
                                name=op.f('fk_ticket_rating_ticket_id_ticket'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['rater_id'], ['user_account.id'],
                                name=op.f('fk_ticket_rating_rater_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                                name=op.f('fk_ticket_rating_student_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_rating')),
    )
    op.create_index('ix_ticket_rating_student_at', 'ticket_rating', ['student_id', 'created_at'])
    op.create_index('ix_ticket_rating_at', 'ticket_rating', ['created_at'])
    op.create_index(op.f('ix_ticket_rating_ticket_id'), 'ticket_rating', ['ticket_id'])
    op.create_table(
        'monthly_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('generated_at', helpdesk_core.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('generated_by_id', sa.Integer(), nullable=True),
        sa.Column('locale', sa.String(length=5), nullable=False),
        sa.Column('xlsx', sa.LargeBinary(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['generated_by_id'], ['user_account.id'],
                                name=op.f('fk_monthly_report_generated_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_report')),
        sa.UniqueConstraint('month', name=op.f('uq_monthly_report_month')),
    )


def downgrade():
    op.drop_table('monthly_report')
    op.drop_index(op.f('ix_ticket_rating_ticket_id'), table_name='ticket_rating')
    op.drop_index('ix_ticket_rating_at', table_name='ticket_rating')
    op.drop_index('ix_ticket_rating_student_at', table_name='ticket_rating')
    op.drop_table('ticket_rating')
