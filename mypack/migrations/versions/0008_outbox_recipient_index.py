"""The outbox: an index for how often one address was mailed lately.

The password-reset request counts the recent mails of one kind to one address on
every request (the per-address limit); without the index that count reads the table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 01:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_messages_recipient",
                              ["recipient", "kind", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_recipient")
