"""roster, skills, counter help: shifts, dated shift changes, skills, help at the counter

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:15:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk_core.models


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_TS = helpdesk_core.models.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        'shift',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('part', sa.String(length=10), nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.CheckConstraint('weekday BETWEEN 0 AND 5', name=op.f('ck_shift_weekday')),
        sa.CheckConstraint("part IN ('morning', 'afternoon')", name=op.f('ck_shift_part')),
        sa.ForeignKeyConstraint(['assignment_id'], ['student_assignment.id'],
                                name=op.f('fk_shift_assignment_id_student_assignment'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shift')),
        sa.UniqueConstraint('assignment_id', 'weekday', 'part',
                            name=op.f('uq_shift_assignment_id')),
    )
    op.create_index(op.f('ix_shift_assignment_id'), 'shift', ['assignment_id'])
    op.create_table(
        'shift_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ward_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('part', sa.String(length=10), nullable=False),
        sa.Column('off_id', sa.Integer(), nullable=True),
        sa.Column('on_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('decided_at', _TS, nullable=True),
        sa.CheckConstraint("part IN ('morning', 'afternoon')", name=op.f('ck_shift_change_part')),
        sa.CheckConstraint('off_id IS NOT NULL OR on_id IS NOT NULL',
                           name=op.f('ck_shift_change_someone')),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'],
                                name=op.f('fk_shift_change_ward_id_ward'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['off_id'], ['user_account.id'],
                                name=op.f('fk_shift_change_off_id_user_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['on_id'], ['user_account.id'],
                                name=op.f('fk_shift_change_on_id_user_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'],
                                name=op.f('fk_shift_change_requested_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                                name=op.f('fk_shift_change_decided_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_change')),
    )
    op.create_index('ix_shift_change_ward_day', 'shift_change', ['ward_id', 'day'])
    op.create_table(
        'skill',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('declared_at', _TS, nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', _TS, nullable=True),
        sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                                name=op.f('fk_skill_student_id_user_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['user_account.id'],
                                name=op.f('fk_skill_confirmed_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_skill')),
        sa.UniqueConstraint('student_id', 'category', name=op.f('uq_skill_student_id')),
    )
    op.create_index(op.f('ix_skill_student_id'), 'skill', ['student_id'])
    op.create_table(
        'counter_help',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('ward_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=False),
        sa.Column('at', _TS, nullable=False),
        sa.CheckConstraint('people BETWEEN 1 AND 100', name=op.f('ck_counter_help_people')),
        sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                                name=op.f('fk_counter_help_student_id_user_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'],
                                name=op.f('fk_counter_help_ward_id_ward'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_counter_help')),
    )
    op.create_index('ix_counter_help_ward_at', 'counter_help', ['ward_id', 'at'])
    op.create_index('ix_counter_help_student_at', 'counter_help', ['student_id', 'at'])


def downgrade():
    op.drop_index('ix_counter_help_student_at', table_name='counter_help')
    op.drop_index('ix_counter_help_ward_at', table_name='counter_help')
    op.drop_table('counter_help')
    op.drop_index(op.f('ix_skill_student_id'), table_name='skill')
    op.drop_table('skill')
    op.drop_index('ix_shift_change_ward_day', table_name='shift_change')
    op.drop_table('shift_change')
    op.drop_index(op.f('ix_shift_assignment_id'), table_name='shift')
    op.drop_table('shift')
