"""access record and personal data purge: who opened personal data, and when a
closed ticket's citizen data was erased

One row per ticket page, attachment or export opened (and per purge of a closed ticket's
citizen data): user, kind, ticket, target, details, address, time. Pruned after
``ACCESS_LOG_RETENTION_DAYS``. ``ticket.personal_data_purged_at`` marks a done ticket
whose citizen data the scheduler erased (``PERSONAL_DATA_PURGE_DAYS``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk_core.models


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_data_purged_at',
                                      helpdesk_core.models.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        'access_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('target', sa.String(length=255), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('address', sa.String(length=45), nullable=False),
        sa.Column('at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_access_record_user_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_record')),
    )
    with op.batch_alter_table('access_record', schema=None) as batch_op:
        batch_op.create_index('ix_access_record_at', ['at'], unique=False)
        batch_op.create_index('ix_access_record_user_at', ['user_id', 'at'], unique=False)
        batch_op.create_index('ix_access_record_ticket_at', ['ticket_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('access_record', schema=None) as batch_op:
        batch_op.drop_index('ix_access_record_ticket_at')
        batch_op.drop_index('ix_access_record_user_at')
        batch_op.drop_index('ix_access_record_at')
    op.drop_table('access_record')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('personal_data_purged_at')
