"""one-time form keys: a form sent twice files one ticket, adds one comment

After a crash, requests that waited in the backlog are committed after the clerk gave
up, and filing again made a duplicate. The filing and comment forms now carry a random
key; the unique indexes let one ticket (one comment) per key through, even when two
submits race.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_key', sa.String(length=64), nullable=True))
        batch_op.create_index('uq_ticket_form_key', ['form_key'], unique=True)
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_key', sa.String(length=64), nullable=True))
        batch_op.create_index('uq_ticket_event_form_key', ['form_key'], unique=True)


def downgrade():
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_index('uq_ticket_event_form_key')
        batch_op.drop_column('form_key')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('uq_ticket_form_key')
        batch_op.drop_column('form_key')
