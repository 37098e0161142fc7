"""core: the jobs table.

Revision ID: core_0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

import nca_share.db

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("payload", nca_share.db.JSONType, nullable=False),
        sa.Column("unique_key", sa.String(length=300), nullable=True),
        sa.Column("state", sa.Enum("queued", "running", "done", "dead", name="jobstate",
                                   native_enum=False, length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=True),
        sa.Column("run_after", nca_share.db.UTCDateTime(), nullable=False),
        sa.Column("lease_until", nca_share.db.UTCDateTime(), nullable=True),
        sa.Column("locked_by", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", nca_share.db.JSONType, nullable=True),
        sa.Column("created_at", nca_share.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", nca_share.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", nca_share.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("unique_key", name=op.f("uq_jobs_unique_key")),
    )
    op.create_index("ix_jobs_due", "jobs", ["state", "run_after"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_due", table_name="jobs")
    op.drop_table("jobs")
