"""api token: bearer tokens of integrations (the REST API under /api/v1)

One row per integration's token: name, the secret's prefix and SHA-256, scope (read or
write), wards (or all), who created it and when, last use, revocation.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk_core.models


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('all_wards', sa.Boolean(), nullable=False),
        sa.Column('ward_ids', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_used_address', sa.String(length=45), nullable=False),
        sa.Column('revoked_at', helpdesk_core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_api_token_created_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
    )


def downgrade():
    op.drop_table('api_token')
