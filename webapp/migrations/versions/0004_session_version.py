"""session version of accounts

Every session and "stay logged in" cookie holds the account's session version; raising
it (logging out, a new password, a new role or ward, deactivation, "log out
everywhere") ends them all. Existing accounts start at 1, so sessions opened before
this migration (which hold the bare account id) end once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_version')
