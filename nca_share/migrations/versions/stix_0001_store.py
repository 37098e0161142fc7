"""stix: versioned objects, edges, observable index, quarantine and ingest runs.

Revision ID: stix_0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import nca_share.db

revision = "stix_0001"
down_revision = None
branch_labels = ("stix",)
depends_on = ("core_0001",)


def upgrade() -> None:
    op.create_table(
        "stix_objects",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=250), nullable=False),
        sa.Column("spec_version", sa.String(length=10), nullable=False),
        sa.Column("original_spec_version", sa.String(length=10), nullable=False),
        sa.Column("created", nca_share.db.UTCDateTime(), nullable=True),
        sa.Column("modified", nca_share.db.UTCDateTime(), nullable=True),
        sa.Column("version_key", sa.String(length=40), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("valid_from", nca_share.db.UTCDateTime(), nullable=True),
        sa.Column("valid_until", nca_share.db.UTCDateTime(), nullable=True),
        sa.Column("tlp", sa.SmallInteger(), nullable=False),
        sa.Column("tlp_defaulted", sa.Boolean(), nullable=False),
        sa.Column("marking_refs", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("date_added", nca_share.db.UTCDateTime(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("raw", nca_share.db.JSONType, nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_stix_objects")),
        sa.UniqueConstraint("stix_id", "version_key", name="uq_stix_objects_stix_id_version_key"),
    )
    op.create_index("ix_stix_objects_date_added_pk", "stix_objects", ["date_added", "pk"])
    op.create_index("ix_stix_objects_type_current", "stix_objects", ["type", "is_current"])

    op.create_table(
        "stix_edges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=300), nullable=False),
        sa.Column("target_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("relationship_type", sa.String(length=250), nullable=True),
        sa.Column("via_id", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stix_edges")),
    )
    op.create_index("ix_stix_edges_source", "stix_edges", ["source_id", "kind"])
    op.create_index("ix_stix_edges_target", "stix_edges", ["target_id", "kind"])

    op.create_table(
        "stix_observables",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("ip_version", sa.SmallInteger(), nullable=True),
        sa.Column("ip_start", sa.String(length=32), nullable=True),
        sa.Column("ip_end", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stix_observables")),
    )
    op.create_index(
        "ix_stix_observables_ip", "stix_observables", ["ip_version", "ip_start", "ip_end"]
    )
    op.create_index("ix_stix_observables_kind_value", "stix_observables", ["kind", "value"])
    op.create_index("ix_stix_observables_stix_id", "stix_observables", ["stix_id"])

    op.create_table(
        "stix_quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("input_index", sa.Integer(), nullable=True),
        sa.Column("stix_id", sa.String(length=300), nullable=True),
        sa.Column("field", sa.String(length=250), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.Column("created_at", nca_share.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stix_quarantine")),
    )
    op.create_index("ix_stix_quarantine_run", "stix_quarantine", ["run_id"])

    op.create_table(
        "stix_ingest_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=2000), nullable=True),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("started_at", nca_share.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", nca_share.db.UTCDateTime(), nullable=True),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("new_versions", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stix_ingest_runs")),
    )
    op.create_index("ix_stix_ingest_runs_feed", "stix_ingest_runs", ["feed_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_stix_ingest_runs_feed", table_name="stix_ingest_runs")
    op.drop_table("stix_ingest_runs")
    op.drop_index("ix_stix_quarantine_run", table_name="stix_quarantine")
    op.drop_table("stix_quarantine")
    op.drop_index("ix_stix_observables_stix_id", table_name="stix_observables")
    op.drop_index("ix_stix_observables_kind_value", table_name="stix_observables")
    op.drop_index("ix_stix_observables_ip", table_name="stix_observables")
    op.drop_table("stix_observables")
    op.drop_index("ix_stix_edges_target", table_name="stix_edges")
    op.drop_index("ix_stix_edges_source", table_name="stix_edges")
    op.drop_table("stix_edges")
    op.drop_index("ix_stix_objects_type_current", table_name="stix_objects")
    op.drop_index("ix_stix_objects_date_added_pk", table_name="stix_objects")
    op.drop_table("stix_objects")
