"""automation: the outbox sender's columns, received pushes, the scheduler's job store

Revision ID: 0011_automation
Revises: 0010_after_sales
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_automation"
down_revision = "0010_after_sales"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default="message"))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("not_before", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("bundle", sa.String(32), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.create_index("ix_outbox_claims", "outbox", ["target", "claimed_at"])
    op.create_table(
        "pushes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("push_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("channel", "push_id", name="uq_pushes_channel_push"),
    )
    op.create_index("ix_pushes_status", "pushes", ["status", "id"])
    # APScheduler 3's SQLAlchemy job store, as it would create it (orderhub scheduler)
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("apscheduler_jobs")
    op.drop_index("ix_pushes_status", table_name="pushes")
    op.drop_table("pushes")
    op.drop_index("ix_outbox_claims", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("claimed_at", "bundle", "not_before", "priority", "kind"):
            batch.drop_column(column)
