"""The benchmark's data: a café that has been open a while (hundreds of items,
thousands of orders), loaded straight into a migrated database, and the account the
load generator orders and logs in with."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from mypack.auth import service as accounts
from mypack.auth import tokens
from mypack.auth.models import User
from mypack.auth.passwords import hash_password
from mypack.database import utcnow
from mypack.extensions import db
from mypack.menu.models import CATEGORIES, MenuItem, Supplier
from mypack.orders.models import STATUSES, Order, OrderLine

SUPPLIERS, ITEMS, CUSTOMERS, ORDERS = 25, 400, 300, 5000
EMAIL, PASSWORD = "bench@example.com", "Bench-Mark-Flat-White-7"


def load(seed: int = 8) -> dict:
    """Fill an empty, migrated database; return the bench account's email, password and
    API token, and the ids of two items it orders."""
    rng, now = random.Random(seed), utcnow()
    db.session.execute(insert(Supplier), [
        {"name": f"Supplier {n:02}", "email": f"s{n}@example.com"} for n in range(SUPPLIERS)])
    supplier_ids = list(db.session.scalars(select(Supplier.id)))
    db.session.execute(insert(MenuItem), [
        {"name": f"{rng.choice(['House', 'Single origin', 'Seasonal', 'Iced'])} item {n:03}",
         "category": CATEGORIES[n % len(CATEGORIES)],
         "description": "A realistic description of the item, two lines long. " * 2,
         "price": Decimal(rng.randint(150, 900)) / 100, "available": n % 10 != 0,
         "supplier_id": rng.choice(supplier_ids), "created_at": now, "updated_at": now}
        for n in range(ITEMS)])
    # One hash for all customers: hashing 300 passwords would only slow the setup.
    password_hash = hash_password(PASSWORD)
    db.session.execute(insert(User), [
        {"email": f"customer{n}@example.com", "display_name": f"Customer {n}",
         "password_hash": password_hash, "role": "customer",
         "created_at": now - timedelta(days=rng.randint(0, 60))} for n in range(CUSTOMERS)])
    user_ids = list(db.session.scalars(select(User.id)))
    prices = dict(db.session.execute(select(MenuItem.id, MenuItem.price)).all())
    item_ids = sorted(prices)
    orders, lines = [], []
    for n in range(ORDERS):
        chosen = {item: rng.randint(1, 3) for item in rng.sample(item_ids, rng.randint(1, 4))}
        placed = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        orders.append({"id": n + 1, "user_id": rng.choice(user_ids),
                       "status": rng.choice(STATUSES), "submission_key": f"bench-{n}",
                       "total": sum(prices[item] * quantity for item, quantity in chosen.items()),
                       "created_at": placed, "updated_at": placed})
        lines.extend({"order_id": n + 1, "item_id": item, "quantity": quantity,
                      "unit_price": prices[item]} for item, quantity in chosen.items())
    db.session.execute(insert(Order), orders)
    db.session.execute(insert(OrderLine), lines)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequence on
        db.session.execute(db.text(
            "SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))"))
        db.session.commit()
    user = accounts.register(EMAIL, "Bench", PASSWORD, confirmed=True)
    token, _ = tokens.create(user, "bench")
    available = list(db.session.scalars(select(MenuItem.id).where(MenuItem.available)
                                        .order_by(MenuItem.id).limit(2)))
    return {"email": EMAIL, "password": PASSWORD, "token": token, "items": available}
