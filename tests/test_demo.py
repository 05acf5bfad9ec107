"""mypack seed-demo: a living café, loaded idempotently, never in production."""

from sqlalchemy import func, select

from mypack.extensions import db
from mypack.menu.models import CATEGORIES, MenuItem, Supplier
from tests.factories import login


def counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Supplier)),
                db.session.scalar(select(func.count()).select_from(MenuItem)))


def test_seed_demo_loads_suppliers_items_and_accounts(migrated_app):
    result = migrated_app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    suppliers, items = counts(migrated_app)
    assert suppliers == 4 and 25 <= items <= 35
    with migrated_app.app_context():
        categories = set(db.session.scalars(select(MenuItem.category)))
    assert categories == set(CATEGORIES)
    for role in ("staff", "customer", "admin"):
        email, password = next(line.split(": ", 1)[1].split(" / ")
                               for line in result.output.splitlines()
                               if line.startswith(f"log in as {role}"))
        response = login(migrated_app.test_client(), email=email, password=password)
        assert response.status_code == 302, role


def test_seed_demo_is_idempotent(migrated_app):
    runner = migrated_app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    first = counts(migrated_app)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "(0 new)" in result.output
    assert "\n0 new demo orders" in result.output
    assert counts(migrated_app) == first


def test_seed_demo_refuses_production(instance_path):
    from mypack import create_app

    app = create_app("production", instance_path, SECRET_KEY="Qm8dT2xLw9Pz-" * 5,
                     SQLALCHEMY_DATABASE_URI="postgresql://u@127.0.0.1:1/d")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1 and "seed-demo is for development" in result.output
