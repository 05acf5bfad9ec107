"""Email confirmation: when an account's address was confirmed.

Accounts that exist when this runs are confirmed as of their creation: they were
made before confirmation was asked for, and their owners must not be stopped from
ordering by an upgrade. New accounts start unconfirmed (mypack.auth.confirmation).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 03:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(), nullable=True))
    users = sa.table("users", sa.column("email_confirmed_at", sa.DateTime()),
                     sa.column("created_at", sa.DateTime()))
    op.execute(users.update().values(email_confirmed_at=users.c.created_at))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_confirmed_at")
