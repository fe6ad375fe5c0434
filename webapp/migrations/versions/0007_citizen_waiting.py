"""a citizen waiting, first in the queue within its priority

``ticket.citizen_waiting`` is ``urgency = 'citizen_waiting'`` as a plain column (filled
for existing tickets), and ``ix_ticket_open_queue`` (partial: open tickets) now holds the
queue's whole order: priority, a citizen waiting first, soonest due. A ward's queue is
still read in order and stops after one page (bench/RESULTS.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

OPEN_SQL = ("status IN ('new', 'assigned', 'in_progress', 'waiting_reporter', "
            "'waiting_vendor', 'waiting_city')")


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('citizen_waiting', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.execute("UPDATE ticket SET citizen_waiting = (urgency = 'citizen_waiting')")
    op.drop_index('ix_ticket_open_queue', table_name='ticket')
    op.create_index('ix_ticket_open_queue', 'ticket',
                    ['ward_id', 'priority', sa.text('citizen_waiting DESC'),
                     'resolution_due_at'], unique=False,
                    sqlite_where=sa.text(OPEN_SQL), postgresql_where=sa.text(OPEN_SQL))


def downgrade():
    op.drop_index('ix_ticket_open_queue', table_name='ticket')
    op.create_index('ix_ticket_open_queue', 'ticket', ['ward_id', 'resolution_due_at'],
                    unique=False, sqlite_where=sa.text(OPEN_SQL),
                    postgresql_where=sa.text(OPEN_SQL))
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('citizen_waiting')
