"""Periodic jobs: their claims on periods (once per period, whatever the schedulers),
and when an order's customer was reminded that it waits for collection.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("period", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("job", "period", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
    op.drop_table("job_runs")
