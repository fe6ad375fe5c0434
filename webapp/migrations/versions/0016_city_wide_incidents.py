"""city-wide incidents: a shared service's key on assets, incidents and their tickets

``asset.service_key`` names the shared service an asset reaches (national public-service
portal, VNeID, SSO, the city's one-stop system). ``incident`` is one outage seen from
several wards; ``incident_ticket`` links ward tickets to it (their SLA clocks wait);
``incident_dismissal`` remembers suggestions a coordinator turned down.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk_core.models


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'open' AND service_key <> ''")


def upgrade():
    with op.batch_alter_table('asset') as batch:
        batch.add_column(sa.Column('service_key', sa.String(length=20), nullable=False,
                                   server_default=''))
    op.create_table(
        'incident',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_key', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('match_text', sa.String(length=200), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('ward_ids', sa.JSON(), nullable=False),
        sa.Column('started_at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('recovered_at', helpdesk_core.models.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('opened_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'],
                                name=op.f('fk_incident_opened_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'],
                                name=op.f('fk_incident_closed_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    )
    op.create_index('ix_incident_status', 'incident', ['status', 'started_at'])
    op.create_index('uq_incident_open_service', 'incident', ['service_key'], unique=True,
                    sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.create_table(
        'incident_ticket',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('linked_at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('released_at', helpdesk_core.models.UTCDateTime(timezone=True),
                  nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id'],
                                name=op.f('fk_incident_ticket_incident_id_incident'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'],
                                name=op.f('fk_incident_ticket_ticket_id_ticket'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_ticket')),
        sa.UniqueConstraint('incident_id', 'ticket_id',
                            name=op.f('uq_incident_ticket_incident_id')),
    )
    op.create_index('ix_incident_ticket_ticket', 'incident_ticket', ['ticket_id', 'released_at'])
    op.create_table(
        'incident_dismissal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('match_text', sa.String(length=200), nullable=False),
        sa.Column('dismissed_at', helpdesk_core.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('dismissed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['dismissed_by_id'], ['user_account.id'],
                                name=op.f('fk_incident_dismissal_dismissed_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_dismissal')),
    )
    op.create_index('ix_incident_dismissal_key', 'incident_dismissal',
                    ['category', 'match_text'])


def downgrade():
    op.drop_index('ix_incident_dismissal_key', table_name='incident_dismissal')
    op.drop_table('incident_dismissal')
    op.drop_index('ix_incident_ticket_ticket', table_name='incident_ticket')
    op.drop_table('incident_ticket')
    op.drop_index('uq_incident_open_service', table_name='incident')
    op.drop_index('ix_incident_status', table_name='incident')
    op.drop_table('incident')
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): a batch rebuild of asset would rewrite the foreign keys
        # other tables and 0015's depends_on_id hold to it.
        op.execute("ALTER TABLE asset DROP COLUMN service_key")
    else:
        op.drop_column('asset', 'service_key')
