"""The menu (suppliers, items) and orders with their lines.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 11:11:42.576062

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("name", name=op.f("uq_suppliers_name")),
    )
    op.create_table(
        "menu_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "category IN ('coffee', 'tea', 'food', 'other')", name=op.f("ck_menu_items_category")
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_menu_items_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_menu_items_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_menu_items")),
    )
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_menu_items_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_menu_items_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_menu_items_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('placed', 'preparing', 'ready', 'collected', 'cancelled')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint("total >= 0", name=op.f("ck_orders_total_not_negative")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_orders_submission_key")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_user_id"), ["user_id"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.CheckConstraint("quantity BETWEEN 1 AND 50", name=op.f("ck_order_lines_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_order_lines_unit_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["menu_items.id"], name=op.f("fk_order_lines_item_id_menu_items")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_lines_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_order_id"), ["order_id"], unique=False)


def downgrade():
    # Dropping a table drops its indexes; MySQL refuses to drop a foreign key's index
    # on its own.
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("menu_items")
    op.drop_table("suppliers")
