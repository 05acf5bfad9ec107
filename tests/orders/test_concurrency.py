"""Orders under concurrency, on the real PostgreSQL and MySQL servers (issue items 6, 7)."""

import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError

from mypack.auth import service as accounts
from mypack.auth.models import User
from mypack.database import commit_retrying_deadlocks, is_deadlock
from mypack.extensions import db
from mypack.menu.models import MenuItem
from mypack.orders import service as orders
from mypack.orders.models import Order, OrderLine

CUSTOMERS = 50
pytestmark = pytest.mark.parametrize("backend", ["postgres", "mysql"])


@pytest.fixture
def cafe(migrated_app):
    """A migrated app on a real server with two items and 50 customers."""
    with migrated_app.app_context():
        db.session.add_all([MenuItem(name="Flat white", category="coffee", price=Decimal("3.20")),
                            MenuItem(name="Scone", category="food", price=Decimal("2.45"))])
        for n in range(CUSTOMERS):
            accounts.register(f"c{n}@example.com", f"Customer {n}", "Flat-White-42",
                              confirmed=True)
        db.session.commit()
        items = {item.name: item.id for item in db.session.scalars(select(MenuItem))}
        users = [user.id for user in accounts.list_users()]
    return migrated_app, items, users


def run_together(functions):
    """Start every function at the same moment in its own thread; return their results."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, function):
        barrier.wait()
        try:
            results[index] = function()
        except Exception as exc:  # collected and asserted on by the caller
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_customers_order_at_the_same_moment(cafe):
    app, items, users = cafe

    def order_for(number, user_id):
        def place():
            with app.app_context():
                user = db.session.get(User, user_id)
                order = orders.place_order(
                    user, {items["Flat white"]: 1 + number % 3, items["Scone"]: 2},
                    submission_key=f"key-{number}")
                return order.id
        return place

    results = run_together([order_for(n, user_id) for n, user_id in enumerate(users)])
    assert all(isinstance(result, int) for result in results), [
        r for r in results if not isinstance(r, int)][:3]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == CUSTOMERS
        assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 2 * CUSTOMERS
        for number, order_id in enumerate(results):
            order = db.session.get(Order, order_id)
            expected = Decimal("3.20") * (1 + number % 3) + Decimal("2.45") * 2
            assert order.total == expected
            assert sum(line.unit_price * line.quantity for line in order.lines) == expected
        # A later price change does not change an existing order.
        db.session.get(MenuItem, items["Flat white"]).price = Decimal("9.99")
        db.session.commit()
        assert db.session.get(Order, results[0]).total == Decimal("3.20") + Decimal("4.90")


def test_a_resubmitted_confirmation_places_one_order(cafe):
    app, items, users = cafe

    def place():
        with app.app_context():
            user = db.session.get(User, users[0])
            return orders.place_order(user, {items["Scone"]: 1}, "same-key").id

    results = run_together([place] * 5)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_two_staff_moving_one_order_one_wins(cafe):
    app, items, users = cafe
    for _ in range(10):
        with app.app_context():
            user = db.session.get(User, users[0])
            order_id = orders.place_order(user, {items["Scone"]: 1}, f"k{_}").id

        def mover(target, order_id=order_id):
            def move():
                with app.app_context():
                    return orders.move(order_id, "placed", target).status
            return move

        results = run_together([mover("preparing"), mover("cancelled")])
        wins = [r for r in results if isinstance(r, str)]
        conflicts = [r for r in results if isinstance(r, orders.OrderConflict)]
        assert len(wins) == 1 and len(conflicts) == 1, results
        with app.app_context():
            assert db.session.get(Order, order_id).status == wins[0]


def two_orders(app, users, items) -> tuple[int, int]:
    with app.app_context():
        user = db.session.get(User, users[0])
        return tuple(orders.place_order(user, {items["Scone"]: 1}, f"pair-{n}").id
                     for n in range(2))


def test_a_deadlock_is_recognised_as_one(cafe):
    """Two transactions each lock an order the other then wants: the database rolls
    one back, and is_deadlock says that is what happened."""
    app, items, users = cafe
    first, second = two_orders(app, users, items)
    touch = "UPDATE orders SET updated_at = updated_at WHERE id = :id"
    with app.app_context():
        one, two = db.engine.connect(), db.engine.connect()
        try:
            one.execute(text(touch), {"id": first})
            two.execute(text(touch), {"id": second})
            # Each now wants the other's row; the first to wait goes in a thread.
            results = run_together([
                lambda: one.execute(text(touch), {"id": second}),
                lambda: (time.sleep(0.3), two.execute(text(touch), {"id": first})),
            ])
        finally:
            one.rollback()
            two.rollback()
            one.close()
            two.close()
    [lost] = [r for r in results if isinstance(r, Exception)]
    assert isinstance(lost, OperationalError) and is_deadlock(lost), lost


def test_a_conditional_write_that_meets_a_deadlock_still_commits(cafe):
    """commit_retrying_deadlocks: whichever transaction the database rolls back, the
    write is committed (run again when it was the one rolled back)."""
    app, items, users = cafe
    first, second = two_orders(app, users, items)
    touch = "UPDATE orders SET updated_at = updated_at WHERE id = :id"
    both_placed = (update(Order).where(Order.id.in_([first, second]),
                                       Order.status == "placed")
                   .values(status="preparing"))

    def other_transaction():
        with app.app_context(), db.engine.connect() as other:
            other.execute(text(touch), {"id": second})
            holding.set()
            time.sleep(0.5)  # the write below is waiting for this row by now
            try:
                other.execute(text(touch), {"id": first})
                other.commit()
            except OperationalError:
                other.rollback()

    holding = threading.Event()
    thread = threading.Thread(target=other_transaction)
    thread.start()
    try:
        assert holding.wait(30)
        with app.app_context():
            assert commit_retrying_deadlocks(db.session, both_placed).rowcount == 2
    finally:
        thread.join(timeout=120)
    with app.app_context():
        assert {db.session.get(Order, n).status for n in (first, second)} == {"preparing"}
