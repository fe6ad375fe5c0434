"""notifications: the outbox, preferences, channel settings, webhook endpoints

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk_core.models


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UTC = helpdesk_core.models.UTCDateTime


def upgrade():
    op.create_table(
        'webhook_endpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('all_wards', sa.Boolean(), nullable=False),
        sa.Column('ward_ids', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint')),
    )
    op.create_table(
        'channel_setting',
        sa.Column('channel', sa.String(length=40), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('updated_at', UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel', name=op.f('pk_channel_setting')),
    )
    op.create_table(
        'notification_preference',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_notification_preference_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
        sa.UniqueConstraint('user_id', 'channel', 'kind',
                            name=op.f('uq_notification_preference_user_id')),
    )
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=40), nullable=False),
        sa.Column('address', sa.Text(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('endpoint_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=True),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('locale', sa.String(length=5), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTC(timezone=True), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', UTC(timezone=True), nullable=False),
        sa.Column('sent_at', UTC(timezone=True), nullable=True),
        sa.Column('digest_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'dead', 'held')",
                           name=op.f('ck_notification_status')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_notification_user_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'],
                                name=op.f('fk_notification_endpoint_id_webhook_endpoint'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'],
                                name=op.f('fk_notification_ticket_id_ticket'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['digest_id'], ['notification.id'],
                                name=op.f('fk_notification_digest_id_notification'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
        sa.UniqueConstraint('key', name=op.f('uq_notification_key')),
    )
    op.create_index('ix_notification_drain', 'notification', ['status', 'next_attempt_at'])
    op.create_index('ix_notification_held', 'notification', ['status', 'user_id', 'channel'])
    op.create_index('ix_notification_created', 'notification', ['created_at'])
    op.create_index(op.f('ix_notification_ticket_id'), 'notification', ['ticket_id'])


def downgrade():
    op.drop_index(op.f('ix_notification_ticket_id'), table_name='notification')
    op.drop_index('ix_notification_created', table_name='notification')
    op.drop_index('ix_notification_held', table_name='notification')
    op.drop_index('ix_notification_drain', table_name='notification')
    op.drop_table('notification')
    op.drop_table('notification_preference')
    op.drop_table('channel_setting')
    op.drop_table('webhook_endpoint')
