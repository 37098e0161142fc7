"""constituency: organisations, contacts, preferences, maturity, delegations, assets and
overlap review, partnerships, memberships, invitations and join requests.

Revision ID: constituency_0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

import nca_share.db

revision = "constituency_0001"
down_revision = None
branch_labels = ("constituency",)
depends_on = ("core_0001",)


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kvk', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('sbi_codes', nca_share.db.JSONType, nullable=False),
    sa.Column('sbi_version', sa.String(length=4), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('turnover_eur', sa.BigInteger(), nullable=True),
    sa.Column('balance_eur', sa.BigInteger(), nullable=True),
    sa.Column('group_aggregated', sa.Boolean(), nullable=False),
    sa.Column('province', sa.String(length=32), nullable=True),
    sa.Column('municipality', sa.String(length=100), nullable=True),
    sa.Column('nis2_entity_types', nca_share.db.JSONType, nullable=False),
    sa.Column('cer_critical_entity', sa.Boolean(), nullable=False),
    sa.Column('size_class', sa.String(length=16), nullable=True),
    sa.Column('classification', sa.String(length=24), nullable=True),
    sa.Column('classification_rule', sa.Integer(), nullable=True),
    sa.Column('classification_reasons', nca_share.db.JSONType, nullable=False),
    sa.Column('designation', sa.String(length=16), nullable=True),
    sa.Column('designation_by', sa.String(length=200), nullable=True),
    sa.Column('designation_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.Column('designation_reason', sa.Text(), nullable=True),
    sa.Column('maturity_level', sa.String(length=2), nullable=False),
    sa.Column('maturity_assessed_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('kvk', name=op.f('uq_organisations_kvk'))
    )
    op.create_index(op.f('ix_organisations_classification'), 'organisations', ['classification'], unique=False)
    op.create_table('partnerships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('sectors', nca_share.db.JSONType, nullable=False),
    sa.Column('regions', nca_share.db.JSONType, nullable=False),
    sa.Column('forwarding_policy', sa.String(length=24), nullable=False),
    sa.Column('member_list_visible', sa.Boolean(), nullable=False),
    sa.Column('created_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnerships')),
    sa.UniqueConstraint('slug', name=op.f('uq_partnerships_slug'))
    )
    op.create_table('org_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=True),
    sa.Column('range_start', sa.String(length=32), nullable=True),
    sa.Column('range_end', sa.String(length=32), nullable=True),
    sa.Column('cpe', sa.String(length=500), nullable=True),
    sa.Column('purl', sa.String(length=500), nullable=True),
    sa.Column('vendor', sa.String(length=200), nullable=True),
    sa.Column('product', sa.String(length=200), nullable=True),
    sa.Column('version_range', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('verification_method', sa.String(length=10), nullable=True),
    sa.Column('verify_token', sa.String(length=64), nullable=True),
    sa.Column('verified_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.Column('verified_by', sa.String(length=200), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_org_assets_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_assets')),
    sa.UniqueConstraint('organisation_id', 'kind', 'value', name=op.f('uq_org_assets_organisation_id'))
    )
    op.create_index(op.f('ix_org_assets_kind_value'), 'org_assets', ['kind', 'value'], unique=False)
    op.create_index(op.f('ix_org_assets_organisation_id'), 'org_assets', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_org_assets_range'), 'org_assets', ['ip_version', 'range_start', 'range_end'], unique=False)
    op.create_index(op.f('ix_org_assets_status'), 'org_assets', ['status'], unique=False)
    op.create_table('org_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('created_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_org_contacts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_contacts'))
    )
    op.create_index(op.f('ix_org_contacts_organisation_id'), 'org_contacts', ['organisation_id'], unique=False)
    op.create_table('org_delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('supplier_name', sa.String(length=300), nullable=False),
    sa.Column('supplier_kvk', sa.String(length=8), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=False),
    sa.Column('scope', nca_share.db.JSONType, nullable=False),
    sa.Column('consented_by', sa.String(length=200), nullable=False),
    sa.Column('consented_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_org_delegations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_delegations'))
    )
    op.create_index(op.f('ix_org_delegations_organisation_id'), 'org_delegations', ['organisation_id'], unique=False)
    op.create_table('org_delivery_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('channels', nca_share.db.JSONType, nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('min_urgency', sa.String(length=10), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('updated_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_org_delivery_preferences_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_delivery_preferences')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_org_delivery_preferences_organisation_id'))
    )
    op.create_table('org_maturity_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('answers', nca_share.db.JSONType, nullable=False),
    sa.Column('result', nca_share.db.JSONType, nullable=False),
    sa.Column('level', sa.String(length=2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('assessed_by', sa.String(length=200), nullable=True),
    sa.Column('assessed_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_org_maturity_assessments_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_maturity_assessments'))
    )
    op.create_index(op.f('ix_org_maturity_assessments_organisation_id'), 'org_maturity_assessments', ['organisation_id'], unique=False)
    op.create_table('partnership_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('invited_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.Column('accepted_by', sa.String(length=200), nullable=True),
    sa.Column('revoked_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_partnership_invitations_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_partnership_invitations_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnership_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_partnership_invitations_token_hash'))
    )
    op.create_index(op.f('ix_partnership_invitations_partnership_id'), 'partnership_invitations', ['partnership_id'], unique=False)
    op.create_table('partnership_join_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.Column('decided_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_partnership_join_requests_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_partnership_join_requests_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnership_join_requests'))
    )
    op.create_index(op.f('ix_partnership_join_requests_organisation_id'), 'partnership_join_requests', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_partnership_join_requests_partnership_id'), 'partnership_join_requests', ['partnership_id'], unique=False)
    op.create_index(op.f('ix_partnership_join_requests_status'), 'partnership_join_requests', ['status'], unique=False)
    op.create_table('partnership_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.Column('joined_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.Column('ended_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_partnership_memberships_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_partnership_memberships_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnership_memberships')),
    sa.UniqueConstraint('partnership_id', 'organisation_id', name=op.f('uq_partnership_memberships_partnership_id'))
    )
    op.create_index(op.f('ix_partnership_memberships_organisation_id'), 'partnership_memberships', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_partnership_memberships_partnership_id'), 'partnership_memberships', ['partnership_id'], unique=False)
    op.create_table('org_asset_overlaps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('other_asset_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('detected_at', nca_share.db.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', nca_share.db.UTCDateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['org_assets.id'], name=op.f('fk_org_asset_overlaps_asset_id_org_assets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_asset_id'], ['org_assets.id'], name=op.f('fk_org_asset_overlaps_other_asset_id_org_assets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_asset_overlaps')),
    sa.UniqueConstraint('asset_id', 'other_asset_id', name=op.f('uq_org_asset_overlaps_asset_id'))
    )
    op.create_index(op.f('ix_org_asset_overlaps_asset_id'), 'org_asset_overlaps', ['asset_id'], unique=False)
    op.create_index(op.f('ix_org_asset_overlaps_other_asset_id'), 'org_asset_overlaps', ['other_asset_id'], unique=False)
    op.create_index(op.f('ix_org_asset_overlaps_status'), 'org_asset_overlaps', ['status'], unique=False)


def downgrade() -> None:
    op.drop_table("org_asset_overlaps")
    op.drop_table("partnership_memberships")
    op.drop_table("partnership_join_requests")
    op.drop_table("partnership_invitations")
    op.drop_table("org_maturity_assessments")
    op.drop_table("org_delivery_preferences")
    op.drop_table("org_delegations")
    op.drop_table("org_contacts")
    op.drop_table("org_assets")
    op.drop_table("partnerships")
    op.drop_table("organisations")
