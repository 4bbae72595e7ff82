"""insights: order facts, ERP stock by day, hot-SKU episodes, insight state

Revision ID: 0007_insights
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_insights"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "insight_orders",
        sa.Column(
            "order_pk",
            Id,
            sa.ForeignKey("orders.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("standing", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("paid_day", sa.Date()),
        sa.Column("paid_hour", sa.Integer()),
        sa.Column("shipped", sa.Boolean(), nullable=False),
        sa.Column("returned", sa.Boolean(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("customer_key", sa.String(32)),
        sa.Column("warehouse", sa.String(32)),
    )
    op.create_index("ix_insight_orders_day", "insight_orders", ["created_day", "channel"])
    op.create_index("ix_insight_orders_customer_key", "insight_orders", ["customer_key"])
    op.create_table(
        "insight_lines",
        sa.Column(
            "order_pk",
            Id,
            sa.ForeignKey("insight_orders.order_pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
    )
    op.create_index("ix_insight_lines_sku_day", "insight_lines", ["sku", "day"])
    op.create_table(
        "stock_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("warehouse", sa.String(32), primary_key=True),
        sa.Column("on_hand", sa.Integer(), nullable=False),
    )
    op.create_table(
        "hot_sku_episodes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date()),
        sa.Column("alert_id", Id),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("sku", "started_on", name="uq_hot_sku_episodes_start"),
    )
    op.create_table(
        "insight_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("insight_state", "hot_sku_episodes", "stock_days", "insight_lines"):
        op.drop_table(table)
    op.drop_index("ix_insight_orders_customer_key", "insight_orders")
    op.drop_index("ix_insight_orders_day", "insight_orders")
    op.drop_table("insight_orders")
