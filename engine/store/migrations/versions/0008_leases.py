"""leases: one holder at a time for a named piece of work (a workflow's runner, the scheduler)

Revision ID: 0008_leases
Revises: 0007_insights
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_leases"
down_revision = "0007_insights"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
