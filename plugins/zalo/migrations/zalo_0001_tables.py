"""zalo: the users' Zalo ids for the OA, and the OA's rotating tokens

Revision ID: zalo_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "zalo_0001"
down_revision = None
branch_labels = ("zalo",)  # the plugin's name: `helpdesk db upgrade` runs zalo@head
depends_on = None


def upgrade():
    op.create_table(
        "zalo_user",
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("zalo_user_id", sa.String(length=40), nullable=False),
        sa.Column("linked_at", sa.BigInteger(), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=True),
    )
    op.create_index("ix_zalo_user_zalo_user_id", "zalo_user", ["zalo_user_id"])
    op.create_table(
        "zalo_token",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )


def downgrade():
    op.drop_table("zalo_token")
    op.drop_index("ix_zalo_user_zalo_user_id", table_name="zalo_user")
    op.drop_table("zalo_user")
