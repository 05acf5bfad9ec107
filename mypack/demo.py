"""``mypack seed-demo``: a living café for a newcomer's first look (development only)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from mypack.auth import service as accounts
from mypack.database import utcnow
from mypack.extensions import db
from mypack.menu.models import MenuItem, Supplier
from mypack.orders import service as orders
from mypack.orders.models import OPEN_STATUSES, Order

SUPPLIERS = [
    ("Northside Roasters", "orders@northside.example", "+44 20 7946 0101",
     "Roasts on Tuesdays; order by Monday noon."),
    ("Leaf & Kettle", "hello@leafkettle.example", "+44 20 7946 0102", "Loose-leaf teas."),
    ("Crumb Bakery", "bake@crumb.example", "+44 20 7946 0103", "Delivers at 6:30 daily."),
    ("Green Pantry", "sales@greenpantry.example", "+44 20 7946 0104", "Juices and snacks."),
]
# (name, category, price, supplier, description, available)
ITEMS = [
    ("Espresso", "coffee", "2.20", "Northside Roasters", "A double shot, house blend.", True),
    ("Americano", "coffee", "2.60", "Northside Roasters", "Espresso and hot water.", True),
    ("Flat white", "coffee", "3.20", "Northside Roasters", "Double shot, velvety milk.", True),
    ("Cappuccino", "coffee", "3.10", "Northside Roasters", "Espresso, milk and foam.", True),
    ("Latte", "coffee", "3.30", "Northside Roasters", "Espresso with plenty of milk.", True),
    ("Mocha", "coffee", "3.60", "Northside Roasters", "Latte with dark chocolate.", True),
    ("Cortado", "coffee", "2.90", "Northside Roasters", "Equal parts espresso and milk.", True),
    ("Filter coffee", "coffee", "2.50", "Northside Roasters", "Single origin, rotating.", True),
    ("Cold brew", "coffee", "3.40", "Northside Roasters", "Steeped for 18 hours.", False),
    ("English breakfast", "tea", "2.30", "Leaf & Kettle", "Strong black tea.", True),
    ("Earl Grey", "tea", "2.40", "Leaf & Kettle", "With bergamot.", True),
    ("Green sencha", "tea", "2.60", "Leaf & Kettle", "Grassy Japanese green tea.", True),
    ("Peppermint", "tea", "2.20", "Leaf & Kettle", "Caffeine-free.", True),
    ("Chai latte", "tea", "3.20", "Leaf & Kettle", "Spiced tea with milk.", True),
    ("Rooibos", "tea", "2.30", "Leaf & Kettle", "Red bush, caffeine-free.", True),
    ("Matcha latte", "tea", "3.70", "Leaf & Kettle", "Ceremonial-grade matcha.", False),
    ("Croissant", "food", "2.10", "Crumb Bakery", "All-butter.", True),
    ("Pain au chocolat", "food", "2.40", "Crumb Bakery", "Two bars of dark chocolate.", True),
    ("Cinnamon bun", "food", "2.80", "Crumb Bakery", "Cardamom and cinnamon.", True),
    ("Banana bread", "food", "2.90", "Crumb Bakery", "With walnuts.", True),
    ("Scone", "food", "2.45", "Crumb Bakery", "With jam and clotted cream.", True),
    ("Ham and cheese toastie", "food", "5.20", "Crumb Bakery", "Sourdough, mustard.", True),
    ("Avocado toast", "food", "6.50", "Green Pantry", "Chilli, lime, seeds.", True),
    ("Granola bowl", "food", "4.80", "Green Pantry", "Yoghurt and berries.", True),
    ("Soup of the day", "food", "5.50", "Green Pantry", "Ask at the counter.", False),
    ("Orange juice", "other", "2.90", "Green Pantry", "Freshly squeezed.", True),
    ("Sparkling water", "other", "1.60", None, "330 ml bottle.", True),
    ("Hot chocolate", "other", "3.10", None, "Dark chocolate and milk.", True),
    ("Lemonade", "other", "2.70", "Green Pantry", "Homemade, not too sweet.", True),
    ("Coffee beans 250 g", "other", "8.50", "Northside Roasters", "House blend to go.", True),
]
# Demo accounts: development only (seed-demo refuses production configurations).
ACCOUNTS = [
    ("staff@demo.example", "Sam (staff)", "staff", "Demo-Staff-Espresso-1"),
    ("customer@demo.example", "Casey (customer)", "customer", "Demo-Customer-Latte-1"),
    ("admin@demo.example", "Alex (admin)", "admin", "Demo-Admin-Flatwhite-1"),
]
#: Days of demo orders behind today, so the admin dashboard has something to chart.
ORDER_DAYS = 30


def seed() -> list[str]:
    """Add what is missing of the demo data; return what was done. Safe to run twice."""
    done = []
    suppliers = {s.name: s for s in db.session.scalars(select(Supplier))}
    for name, email, phone, notes in SUPPLIERS:
        if name not in suppliers:
            suppliers[name] = Supplier(name=name, email=email, phone=phone, notes=notes)
            db.session.add(suppliers[name])
    existing = set(db.session.scalars(select(MenuItem.name)))
    added = 0
    for name, category, price, supplier, description, available in ITEMS:
        if name not in existing:
            db.session.add(MenuItem(name=name, category=category, price=Decimal(price),
                                    supplier=suppliers[supplier] if supplier else None,
                                    description=description,
                                    available=available))
            added += 1
    db.session.commit()
    done.append(f"{len(SUPPLIERS)} suppliers and {len(ITEMS)} menu items ({added} new)")
    for email, name, role, password in ACCOUNTS:
        if accounts.find_user(email) is None:
            accounts.register(email, name, password, role=role, confirmed=True)
            done.append(f"created {role} {email}")
        done.append(f"log in as {role}: {email} / {password}")
    done.append(f"{_seed_orders()} new demo orders over the last {ORDER_DAYS} days")
    return done


def _seed_orders() -> int:
    """The demo customer's orders, a few a day; the same every run (fixed seed, and
    each order's submission key makes placing it again find it instead)."""
    customer = accounts.get_user("customer@demo.example")  # seeded above
    on_sale = list(db.session.scalars(select(MenuItem.id).where(MenuItem.available.is_(True))
                                      .order_by(MenuItem.id)))
    existing = set(db.session.scalars(select(Order.submission_key).where(
        Order.user_id == customer.id, Order.submission_key.startswith("demo-"))))
    rng, now, placed = random.Random(30), utcnow(), 0
    for days_ago in range(ORDER_DAYS - 1, -1, -1):
        # Today always has a few, so the queue and the dashboard's open orders show some.
        for number in range(rng.randint(0, 5) if days_ago else 4):
            quantities = {item: rng.randint(1, 3) for item in rng.sample(on_sale, 2)}
            minutes = rng.randint(0, 600)
            if days_ago == 0:  # earlier today, never yesterday
                minutes = min(minutes, now.hour * 60 + now.minute)
            # Past orders were collected (a few cancelled); today's are still open.
            status = (rng.choice(OPEN_STATUSES) if days_ago == 0 else
                      "cancelled" if rng.random() < 0.1 else "collected")
            key = f"demo-{days_ago}-{number}"
            if key in existing:
                continue
            order = orders.place_order(customer, quantities, key)
            order.created_at = order.updated_at = now - timedelta(days=days_ago,
                                                                  minutes=minutes)
            order.status = status
            placed += 1
    db.session.commit()
    return placed


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load demo suppliers, menu items, a staff, a customer and an admin account, and
    a month of the customer's orders.

    Idempotent: running it again adds only what is missing. Refused in production
    configurations, since the demo accounts' passwords are printed here and public.
    """
    if current_app.extensions["mypack.settings"].config_class.production:
        raise click.ClickException("seed-demo is for development; this is a production "
                                   "configuration")
    for line in seed():
        click.echo(line)
