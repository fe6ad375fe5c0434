"""kiosk: the counters of each ward's queue system

Revision ID: kiosk_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "kiosk_0001"
down_revision = None
branch_labels = ("kiosk",)  # the plugin's name: `helpdesk db upgrade` runs kiosk@head
depends_on = None


def upgrade():
    op.create_table(
        "kiosk_counter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False, server_default=""),
        sa.UniqueConstraint("ward_id", "number", name="uq_kiosk_counter_ward_number"),
    )
    op.create_index("ix_kiosk_counter_ward_id", "kiosk_counter", ["ward_id"])


def downgrade():
    op.drop_index("ix_kiosk_counter_ward_id", table_name="kiosk_counter")
    op.drop_table("kiosk_counter")
