"""breakers: one row per external system, shared by every process (state, reason, since)

Revision ID: 0014_breakers
Revises: 0013_waits
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_breakers"
down_revision = "0013_waits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "breakers",
        sa.Column("system", sa.String(32), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="closed"),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reason", sa.String(255), nullable=False, server_default=""),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("retry_at", sa.DateTime(), nullable=True),
        sa.Column("cooldown_s", sa.Float(), nullable=False, server_default="0"),
        sa.Column("manual", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("changed_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("outages", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("parked", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("breakers")
