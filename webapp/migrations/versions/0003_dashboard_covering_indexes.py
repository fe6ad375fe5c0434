"""dashboard covering indexes and similar tickets

The coordinators' dashboard reads open tickets per ward with their SLA flags, tickets
filed in a period per category, and tickets resolved in a period with their targets.
These indexes hold every column those grouped queries read, so PostgreSQL answers them
with index-only scans (bench/RESULTS.md: 1,000,000 tickets); ``ix_ticket_similar`` finds
the latest resolutions of a category in a ward for a ticket's "similar tickets";
``ix_ticket_open_queue`` (partial: open tickets) reads a ward's queue in due order. The
covering ones replace the narrower
``ix_ticket_status_ward`` and ``ix_ticket_created``, which are their prefixes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

OPEN_SQL = ("status IN ('new', 'assigned', 'in_progress', 'waiting_reporter', "
            "'waiting_vendor', 'waiting_city')")


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_status_ward')
        batch_op.drop_index('ix_ticket_created')
        batch_op.create_index('ix_ticket_open_load',
                              ['status', 'ward_id', 'at_risk', 'response_breached',
                               'resolution_breached', 'paused_at', 'resolution_due_at',
                               'responded_at', 'response_due_at'], unique=False)
        batch_op.create_index('ix_ticket_created_category', ['created_at', 'category', 'ward_id'],
                              unique=False)
        batch_op.create_index('ix_ticket_resolved',
                              ['resolved_at', 'status', 'ward_id', 'resolution_breached',
                               'resolution_due_at'], unique=False)
        batch_op.create_index('ix_ticket_similar', ['ward_id', 'category', 'resolved_at'],
                              unique=False)
        batch_op.create_index('ix_ticket_open_queue', ['ward_id', 'resolution_due_at'],
                              unique=False, sqlite_where=sa.text(OPEN_SQL),
                              postgresql_where=sa.text(OPEN_SQL))


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_open_queue')
        batch_op.drop_index('ix_ticket_similar')
        batch_op.drop_index('ix_ticket_resolved')
        batch_op.drop_index('ix_ticket_created_category')
        batch_op.drop_index('ix_ticket_open_load')
        batch_op.create_index('ix_ticket_created', ['created_at'], unique=False)
        batch_op.create_index('ix_ticket_status_ward', ['status', 'ward_id'], unique=False)
