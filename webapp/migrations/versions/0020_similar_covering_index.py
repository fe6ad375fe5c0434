"""SQLite: the similar-tickets index holds the columns the ticket page scores and lists

``queries.similar_resolved`` scores the latest 200 resolutions of a ticket's category in
its wards. With ``ix_ticket_similar`` (ward, category, resolved_at) it then read each of
those tickets' rows: 200 pages, read again from the file whenever another process had
written (SQLite empties a connection's page cache then), about 1 ms of every ticket page
under two web workers. ``ix_ticket_similar_rows`` adds status, number, title and
search_text, so the query reads the index alone. PostgreSQL keeps ``ix_ticket_similar``:
an index row there is limited to ~2.7 kB, and a description may be longer.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 01:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

COLUMNS = ['ward_id', 'category', 'resolved_at', 'status', 'number', 'title', 'search_text']


def upgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.create_index('ix_ticket_similar_rows', 'ticket', COLUMNS, unique=False)
    op.drop_index('ix_ticket_similar', table_name='ticket')


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.create_index('ix_ticket_similar', 'ticket', ['ward_id', 'category', 'resolved_at'],
                    unique=False)
    op.drop_index('ix_ticket_similar_rows', table_name='ticket')
