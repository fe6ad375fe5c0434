"""health per device: one open health ticket per device, dependencies, flapping, outages

- ``asset.depends_on_id``: the device this one sits behind (a ward's router).
- ``asset_check``: ``state_history`` (last 21 results as u/d), ``flapping`` and
  ``confirmed_down`` replace ``state_changes`` (change times of the old flapping rule).
- ``check_outage``: every period a check was down, ticketed or not.
- The unique index ``uq_ticket_open_check`` (one open automatic ticket per check)
  becomes ``uq_ticket_open_health_asset`` (one open health ticket per device). A device
  that has several open health tickets keeps its oldest; each other one is resolved by
  the system with a ``status`` event naming the ticket it was merged into, so the new
  index can be built and nothing is lost.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 09:20:00.000000

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa

import helpdesk_core.models

OPEN = ('new', 'assigned', 'in_progress', 'waiting_reporter', 'waiting_vendor',
        'waiting_city')
OPEN_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN))
OPEN_HEALTH_SQL = f"source = 'health_check' AND {OPEN_SQL}"
SQLITE_FK = ("CONSTRAINT fk_asset_depends_on_id_asset FOREIGN KEY(depends_on_id) "
             "REFERENCES asset (id) ON DELETE SET NULL")
MERGED = ("Gộp vào phiếu {number}: mỗi thiết bị chỉ còn một phiếu kiểm tra tự động "
          "đang mở (nâng cấp 0015).")


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _merge_open_health_tickets() -> None:
    """Resolve all but the oldest open health ticket of each device, with an event."""
    conn = op.get_bind()
    meta = sa.MetaData()
    ticket = sa.Table('ticket', meta, autoload_with=conn)
    event = sa.Table('ticket_event', meta, autoload_with=conn)
    rows = conn.execute(
        sa.select(ticket.c.id, ticket.c.asset_id, ticket.c.number, ticket.c.status)
        .where(ticket.c.source == 'health_check', ticket.c.status.in_(OPEN),
               ticket.c.asset_id.is_not(None))
        .order_by(ticket.c.asset_id, ticket.c.id)).all()
    now = dt.datetime.now(dt.timezone.utc)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # how UTCDateTime stores it there
    kept: dict[int, tuple[int, str]] = {}
    for ticket_id, asset_id, number, status in rows:
        if asset_id not in kept:
            kept[asset_id] = (ticket_id, number)
            continue
        into_id, into_number = kept[asset_id]
        conn.execute(ticket.update().where(ticket.c.id == ticket_id).values(
            status='resolved', resolved_at=now, paused_at=now, sla_next_at=None,
            updated_at=now))
        conn.execute(event.insert().values(
            ticket_id=ticket_id, kind='status', actor_id=None, old_value=status,
            new_value='resolved', body=MERGED.format(number=into_number), internal=False,
            data={"action": "resolve", "merged_into": into_id, "migration": "0015"},
            created_at=now))


def upgrade():
    # SQLite alters these tables in place (ADD/DROP COLUMN): a batch would copy them,
    # which the foreign keys of every table that points at them forbid.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE asset ADD COLUMN depends_on_id INTEGER")
        _sqlite_edit_table('asset', lambda sql: sql[:sql.rindex(")")].rstrip()
                           + f",\n\t{SQLITE_FK}\n)")
    else:
        op.add_column('asset', sa.Column('depends_on_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_asset_depends_on_id_asset'), 'asset', 'asset',
                              ['depends_on_id'], ['id'], ondelete='SET NULL')
    op.create_index(op.f('ix_asset_depends_on_id'), 'asset', ['depends_on_id'], unique=False)
    op.add_column('asset_check', sa.Column('state_history', sa.String(length=32),
                                           nullable=False, server_default=''))
    op.add_column('asset_check', sa.Column('flapping', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column('asset_check', sa.Column('confirmed_down', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    _drop_column('asset_check', 'state_changes')
    op.create_table(
        'check_outage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('check_id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('started_at', helpdesk_core.models.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('ended_at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('confirmed', sa.Boolean(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['asset_id'], ['asset.id'],
                                name=op.f('fk_check_outage_asset_id_asset'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['check_id'], ['asset_check.id'],
                                name=op.f('fk_check_outage_check_id_asset_check'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'],
                                name=op.f('fk_check_outage_ticket_id_ticket'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_check_outage')),
    )
    op.create_index('ix_check_outage_asset_start', 'check_outage', ['asset_id', 'started_at'])
    op.create_index('ix_check_outage_check_end', 'check_outage', ['check_id', 'ended_at'])
    _merge_open_health_tickets()
    op.drop_index('uq_ticket_open_check', table_name='ticket')
    op.create_index('uq_ticket_open_health_asset', 'ticket', ['asset_id'], unique=True,
                    sqlite_where=sa.text(OPEN_HEALTH_SQL),
                    postgresql_where=sa.text(OPEN_HEALTH_SQL))


def downgrade():
    # One open ticket per device implies at most one per check: nothing to merge back.
    op.drop_index('uq_ticket_open_health_asset', table_name='ticket')
    op.create_index('uq_ticket_open_check', 'ticket', ['check_id'], unique=True,
                    sqlite_where=sa.text(OPEN_SQL), postgresql_where=sa.text(OPEN_SQL))
    op.drop_index('ix_check_outage_check_end', table_name='check_outage')
    op.drop_index('ix_check_outage_asset_start', table_name='check_outage')
    op.drop_table('check_outage')
    op.add_column('asset_check', sa.Column('state_changes', sa.JSON(), nullable=False,
                                           server_default='[]'))
    for column in ('confirmed_down', 'flapping', 'state_history'):
        _drop_column('asset_check', column)
    op.drop_index(op.f('ix_asset_depends_on_id'), table_name='asset')
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_edit_table('asset', lambda sql: sql.replace(f",\n\t{SQLITE_FK}", ""))
    else:
        op.drop_constraint(op.f('fk_asset_depends_on_id_asset'), 'asset', type_='foreignkey')
    _drop_column('asset', 'depends_on_id')


def _sqlite_edit_table(table: str, edit) -> None:
    """Add or remove a constraint in SQLite's stored schema (the documented "writable
    schema" procedure for constraints that change nothing stored: the column is new
    and empty, or about to go)."""
    conn = op.get_bind()
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' "
                               "AND name = ?", (table,)).scalar()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                         (edit(sql), table))
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def _drop_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place (SQLite 3.35+), see upgrade()
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
