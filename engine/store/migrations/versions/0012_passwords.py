"""passwords: an argon2 hash per user, and the per-user backoff after wrong passwords

Revision ID: 0012_passwords
Revises: 0011_automation
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_passwords"
down_revision = "0011_automation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_passwords",
        sa.Column("user", sa.String(64), primary_key=True),
        sa.Column("hash", sa.String(255), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("user_passwords")
