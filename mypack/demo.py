"""``mypack seed-demo``: a living café for a newcomer's first look (development only)."""

from __future__ import annotations

from decimal import Decimal

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from mypack.auth import service as accounts
from mypack.extensions import db
from mypack.menu.models import MenuItem, Supplier

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
]


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
                                    supplier=suppliers.get(supplier), description=description,
                                    available=available))
            added += 1
    db.session.commit()
    done.append(f"{len(SUPPLIERS)} suppliers and {len(ITEMS)} menu items ({added} new)")
    for email, name, role, password in ACCOUNTS:
        if accounts.find_user(email) is None:
            accounts.register(email, name, password, role=role)
            done.append(f"created {role} {email}")
        done.append(f"log in as {role}: {email} / {password}")
    return done


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load demo suppliers, menu items and a staff and a customer account.

    Idempotent: running it again adds only what is missing. Refused in production
    configurations, since the demo accounts' passwords are printed here and public.
    """
    if current_app.extensions["mypack.settings"].config_class.production:
        raise click.ClickException("seed-demo is for development; this is a production "
                                   "configuration")
    for line in seed():
        click.echo(line)
