"""API token scopes: read or write.

Every existing token becomes ``write``: before scopes, a token could do whatever its
user's role may, and a program using one must keep working. The column keeps that as
its database default, for rows written by code older than this revision (the old
processes of a rolling deploy); mypack itself always names the scope.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:12:44.118233

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=16), server_default="write",
                                      nullable=False))
        batch_op.create_check_constraint(op.f("ck_api_tokens_scope"),
                                         "scope IN ('read', 'write')")


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_api_tokens_scope"), type_="check")
        batch_op.drop_column("scope")
