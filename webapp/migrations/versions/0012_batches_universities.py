"""batches, universities, evaluations, certificates

Universities become organisations (with their own coordinator accounts, role
``university``); placements belong to a batch (đợt) and a university. Existing
placements go into one default batch spanning their dates (serving their wards), and
each distinct university name they carry becomes a university.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:00:00.000000

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa

import helpdesk_core.models


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('staff', 'student', 'coordinator', 'admin')"
ROLES_AFTER = "role IN ('staff', 'student', 'coordinator', 'admin', 'university')"
DEFAULT_BATCH = "Đợt 1 (trước khi có đợt)"


def _now_column():
    return helpdesk_core.models.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        'university',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=160), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', _now_column(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_university')),
        sa.UniqueConstraint('code', name=op.f('uq_university_code')),
        sa.UniqueConstraint('name', name=op.f('uq_university_name')),
    )
    op.create_table(
        'batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('issuing_unit', sa.String(length=200), nullable=False),
        sa.Column('created_at', _now_column(), nullable=False),
        sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_batch_period')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_batch')),
        sa.UniqueConstraint('name', name=op.f('uq_batch_name')),
    )
    op.create_table(
        'batch_ward',
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('ward_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id'],
                                name=op.f('fk_batch_ward_batch_id_batch'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'],
                                name=op.f('fk_batch_ward_ward_id_ward'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('batch_id', 'ward_id', name=op.f('pk_batch_ward')),
    )
    op.create_table(
        'evaluation_criterion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('scale_max', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.CheckConstraint('scale_max BETWEEN 2 AND 10',
                           name=op.f('ck_evaluation_criterion_scale')),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id'],
                                name=op.f('fk_evaluation_criterion_batch_id_batch'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_criterion')),
    )
    op.create_index(op.f('ix_evaluation_criterion_batch_id'), 'evaluation_criterion',
                    ['batch_id'])
    op.create_table(
        'evaluation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('ward_id', sa.Integer(), nullable=False),
        sa.Column('evaluator_id', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('submitted_at', _now_column(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id'],
                                name=op.f('fk_evaluation_batch_id_batch'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evaluator_id'], ['user_account.id'],
                                name=op.f('fk_evaluation_evaluator_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                                name=op.f('fk_evaluation_student_id_user_account'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'], name=op.f('fk_evaluation_ward_id_ward')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation')),
        sa.UniqueConstraint('batch_id', 'student_id', 'ward_id',
                            name=op.f('uq_evaluation_batch_id')),
    )
    op.create_index(op.f('ix_evaluation_batch_id'), 'evaluation', ['batch_id'])
    op.create_index(op.f('ix_evaluation_student_id'), 'evaluation', ['student_id'])
    op.create_table(
        'evaluation_score',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['criterion_id'], ['evaluation_criterion.id'],
                                name=op.f('fk_evaluation_score_criterion_id_evaluation_criterion'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'],
                                name=op.f('fk_evaluation_score_evaluation_id_evaluation'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_score')),
        sa.UniqueConstraint('evaluation_id', 'criterion_id',
                            name=op.f('uq_evaluation_score_evaluation_id')),
    )
    op.create_table(
        'certificate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('issued_at', _now_column(), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_certificate_batch_id_batch')),
        sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'],
                                name=op.f('fk_certificate_issued_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['student_id'], ['user_account.id'],
                                name=op.f('fk_certificate_student_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
        sa.UniqueConstraint('number', name=op.f('uq_certificate_number')),
        sa.UniqueConstraint('batch_id', 'student_id', name=op.f('uq_certificate_batch_id')),
    )
    op.create_index(op.f('ix_certificate_batch_id'), 'certificate', ['batch_id'])
    op.create_index(op.f('ix_certificate_student_id'), 'certificate', ['student_id'])

    # SQLite rebuilds user_account to change its CHECK: with foreign keys on, dropping
    # the old table would cascade into placements, links and access records.
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('university_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_university_id'), ['university_id'])
        batch_op.create_foreign_key(batch_op.f('fk_user_account_university_id_university'),
                                    'university', ['university_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint('role', ROLES_AFTER)
    with op.batch_alter_table('student_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('university_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_student_assignment_batch_id'), ['batch_id'])
        batch_op.create_index(batch_op.f('ix_student_assignment_university_id'),
                              ['university_id'])
        batch_op.create_foreign_key(batch_op.f('fk_student_assignment_batch_id_batch'),
                                    'batch', ['batch_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_student_assignment_university_id_university'),
                                    'university', ['university_id'], ['id'])
    _sqlite_foreign_keys(True)
    _move_placements()


def _sqlite_foreign_keys(on):
    """Switch SQLite's foreign key enforcement (a no-op inside a transaction, so a
    transaction left open by an earlier data migration is committed first)."""
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi.in_transaction:
        dbapi.commit()
    conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar() != int(on):
        raise RuntimeError("could not switch SQLite foreign keys")


def _move_placements():
    """Existing placements: one default batch over their dates and wards; each distinct
    university name becomes a university (code U1, U2, ... for the administrator to edit)."""
    conn = op.get_bind()
    placement = sa.table('student_assignment', sa.column('id'), sa.column('ward_id'),
                         sa.column('university'), sa.column('starts_on', sa.Date),
                         sa.column('ends_on', sa.Date), sa.column('batch_id'),
                         sa.column('university_id'))
    university = sa.table('university', sa.column('id'), sa.column('code'), sa.column('name'),
                          sa.column('active'), sa.column('created_at', _now_column()))
    batch = sa.table('batch', sa.column('id'), sa.column('name'),
                     sa.column('starts_on', sa.Date), sa.column('ends_on', sa.Date),
                     sa.column('issuing_unit'), sa.column('created_at', _now_column()))
    batch_ward = sa.table('batch_ward', sa.column('batch_id'), sa.column('ward_id'))
    first, last = conn.execute(sa.select(sa.func.min(placement.c.starts_on),
                                         sa.func.max(placement.c.ends_on))).one()
    if first is None:
        return
    now = dt.datetime.now(dt.timezone.utc)
    if isinstance(first, str):  # SQLite hands back ISO text from an aggregate
        first, last = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    conn.execute(batch.insert().values(name=DEFAULT_BATCH, starts_on=first, ends_on=last,
                                       issuing_unit='', created_at=now))
    batch_id = conn.execute(sa.select(batch.c.id).where(batch.c.name == DEFAULT_BATCH)).scalar()
    wards = conn.execute(sa.select(placement.c.ward_id).distinct()).scalars().all()
    if wards:
        conn.execute(batch_ward.insert(), [{"batch_id": batch_id, "ward_id": w} for w in wards])
    conn.execute(placement.update().values(batch_id=batch_id))
    names = conn.execute(sa.select(placement.c.university).distinct()
                         .order_by(placement.c.university)).scalars().all()
    for n, name in enumerate(names, start=1):
        conn.execute(university.insert().values(code=f"U{n}", name=name[:160], active=True,
                                                created_at=now))
        uid = conn.execute(sa.select(university.c.id).where(university.c.code == f"U{n}")).scalar()
        conn.execute(placement.update().where(placement.c.university == name)
                     .values(university_id=uid))


def downgrade():
    op.execute("DELETE FROM user_account WHERE role = 'university'")
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('student_assignment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_student_assignment_university_id_university'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_student_assignment_batch_id_batch'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_student_assignment_university_id'))
        batch_op.drop_index(batch_op.f('ix_student_assignment_batch_id'))
        batch_op.drop_column('university_id')
        batch_op.drop_column('batch_id')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint('role', ROLES_BEFORE)
        batch_op.drop_constraint(batch_op.f('fk_user_account_university_id_university'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_account_university_id'))
        batch_op.drop_column('university_id')
    _sqlite_foreign_keys(True)
    op.drop_table('certificate')
    op.drop_table('evaluation_score')
    op.drop_table('evaluation')
    op.drop_table('evaluation_criterion')
    op.drop_table('batch_ward')
    op.drop_table('batch')
    op.drop_table('university')
