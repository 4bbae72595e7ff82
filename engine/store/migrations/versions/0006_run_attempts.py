"""attempts: a run failed on a passing fault is tried again, each try's steps kept

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("steps") as steps:
        steps.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
        steps.drop_constraint("uq_steps_run_node", type_="unique")
        steps.create_unique_constraint(
            "uq_steps_run_node_attempt", ["run_id", "node_id", "attempt"]
        )


def downgrade() -> None:
    with op.batch_alter_table("steps") as steps:
        steps.drop_constraint("uq_steps_run_node_attempt", type_="unique")
        steps.create_unique_constraint("uq_steps_run_node", ["run_id", "node_id"])
        steps.drop_column("attempt")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("attempt")
