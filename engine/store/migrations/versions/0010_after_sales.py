"""after_sales: requests, expected returns, shipped serials, serial SKUs, return stock;
orders.kind tells an after-sales request's item from an order

Revision ID: 0010_after_sales
Revises: 0009_tokens
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_after_sales"
down_revision = "0009_tokens"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="order"))
    op.create_table(
        "after_sales",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "item_pk",
            Id,
            sa.ForeignKey("orders.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("aftersale_id", sa.String(64), nullable=False),
        sa.Column("original_pk", Id, sa.ForeignKey("orders.id", ondelete="SET NULL")),
        sa.Column("original_ref", sa.String(100), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("warehouse", sa.String(32)),
        sa.Column("waybill_no", sa.String(64)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("original_mark", sa.String(32)),
        sa.Column("replacement_ref", sa.String(100)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("channel", "aftersale_id", name="uq_after_sales_request"),
    )
    op.create_table(
        "expected_returns",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "after_sale_pk",
            Id,
            sa.ForeignKey("after_sales.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("warehouse", sa.String(32), nullable=False),
        sa.Column("tracking_no", sa.String(64)),
        sa.Column("carrier", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("inspect", sa.Boolean(), nullable=False),
        sa.Column("expected_at", sa.DateTime(), nullable=False),
        sa.Column("scanned_at", sa.DateTime()),
        sa.Column("scanned_by", sa.String(100)),
        sa.Column("result", sa.String(32)),
        sa.Column("serials", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("inspected_by", sa.String(100)),
        sa.Column("inspected_at", sa.DateTime()),
    )
    op.create_index("ix_expected_returns_warehouse", "expected_returns", ["warehouse"])
    op.create_index("ix_expected_returns_tracking_no", "expected_returns", ["tracking_no"])
    op.create_table(
        "shipped_serials",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("order_pk", Id, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("bill_no", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("order_pk", "sku", "serial", name="uq_shipped_serials"),
    )
    op.create_index("ix_shipped_serials_order_pk", "shipped_serials", ["order_pk"])
    op.create_index("ix_shipped_serials_serial", "shipped_serials", ["serial"])
    op.create_table(
        "serial_skus",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("since", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "return_stock",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "after_sale_pk",
            Id,
            sa.ForeignKey("after_sales.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("warehouse", sa.String(32), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("erp_bill_no", sa.String(64)),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("after_sale_pk", "sku", name="uq_return_stock_once"),
    )


def downgrade() -> None:
    for table in ("return_stock", "serial_skus", "shipped_serials", "expected_returns"):
        op.drop_table(table)
    op.drop_table("after_sales")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("kind")
