"""the waiting tickets' index: new and unassigned, per ward, oldest first

The coordinators' dashboard lists and counts the new tickets nobody has taken in wards
where nobody is on duty; at 1,000,000 tickets that count read every open ticket.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'new' AND assignee_id IS NULL")


def upgrade():
    op.create_index('ix_ticket_waiting', 'ticket', ['ward_id', 'created_at'], unique=False,
                    sqlite_where=WAITING, postgresql_where=WAITING)


def downgrade():
    op.drop_index('ix_ticket_waiting', table_name='ticket')
