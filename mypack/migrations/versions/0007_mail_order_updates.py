"""Mail preferences: whether a customer is mailed when an order is ready or cancelled.

Every existing account gets mail (the column's default), as a new one does; a
customer turns it off on the profile page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mail_order_updates", sa.Boolean(),
                                      server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("mail_order_updates")
