"""waits: what a parked run waits for (a queue decision, stock, a system, a time); the
workflow documents runs started on (so any process can resume any run)

Revision ID: 0013_waits
Revises: 0012_passwords
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_waits"
down_revision = "0012_passwords"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "waits",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("run_id", Id, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("order_pk", Id, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("workflow_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("route", sa.String(32)),
        sa.Column("offers", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime()),
        sa.Column("deadline", sa.DateTime()),
        sa.Column("reminded_at", sa.DateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("woken_at", sa.DateTime()),
        sa.Column("woken_by", sa.String(255)),
        sa.Column("woken_route", sa.String(32)),
        sa.Column("note", sa.Text()),
    )
    op.create_index("ix_waits_open", "waits", ["status", "kind", "key"])
    op.create_index("ix_waits_run", "waits", ["run_id"])
    op.create_table(
        "workflow_documents",
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("workflow_id", sa.String(64), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workflow_documents")
    op.drop_index("ix_waits_run", "waits")
    op.drop_index("ix_waits_open", "waits")
    op.drop_table("waits")
