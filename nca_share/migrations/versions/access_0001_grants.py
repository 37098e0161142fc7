"""access: grants of restricted resources to organisations, partnerships and users.

Revision ID: access_0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

import nca_share.db

revision = "access_0001"
down_revision = None
branch_labels = ("access",)
depends_on = ("constituency_0001", "auth_0001")


def upgrade() -> None:
    op.create_table('access_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_ref', sa.String(length=300), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('partnership_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('granted_by', sa.String(length=320), nullable=True),
    sa.Column('granted_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('(CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END + CASE WHEN partnership_id IS NULL THEN 0 ELSE 1 END + CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_access_grants_one_grantee')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_access_grants_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_access_grants_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_grants'))
    )
    op.create_index(op.f('ix_access_grants_organisation_id'), 'access_grants', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_access_grants_partnership_id'), 'access_grants', ['partnership_id'], unique=False)
    op.create_index(op.f('ix_access_grants_resource_ref'), 'access_grants', ['resource_ref'], unique=False)
    op.create_index(op.f('ix_access_grants_user_id'), 'access_grants', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table("access_grants")
