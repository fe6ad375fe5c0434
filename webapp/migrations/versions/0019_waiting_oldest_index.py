"""the waiting tickets oldest first: new and unassigned, by filing time across wards

The coordinators' dashboard lists the oldest few new tickets nobody has taken. Without
this index PostgreSQL walked the tickets by filing time from the very first one, reading
each row until it met 20 waiting ones (8 ms at 1,000,000 tickets when the oldest waiting
ticket is among the first filed; the whole table when waiting tickets are recent).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'new' AND assignee_id IS NULL")


def upgrade():
    op.create_index('ix_ticket_waiting_oldest', 'ticket', ['created_at', 'id'], unique=False,
                    sqlite_where=WAITING, postgresql_where=WAITING)


def downgrade():
    op.drop_index('ix_ticket_waiting_oldest', table_name='ticket')
