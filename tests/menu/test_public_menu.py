"""The public menu, the site's home page: categories, search, filter, pages, prices, an
item's page, and a bounded number of queries (issue items 2 and 9)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask import url_for

from mypack.menu.prices import money
from tests.factories import add_items, counted_queries, login, make_user, many_items

#: (name, category, price, available)
MENU = [
    ("scone", "food", "2.45", True),
    ("Flat white", "coffee", "3.20", True),
    ("Lemonade", "other", "2.70", True),
    ("Earl Grey", "tea", "2.40", True),
    ("Cold brew", "coffee", "3.40", False),
    ("Americano", "coffee", "2.60", True),
]
_ITEM_LINK = re.compile(r'<a href="/items/\d+">([^<]+)</a>')
_HEADINGS = re.compile(r"<h2>([^<]+)</h2>")


def names(page) -> list[str]:
    """The item names on a menu page, in page order."""
    return _ITEM_LINK.findall(page.text)


# --- the home page ------------------------------------------------------------------------

def test_the_menu_is_the_home_page(site):
    with site.test_request_context():
        assert url_for("menu.index") == "/"
    page = site.test_client().get("/")
    assert page.status_code == 200
    assert "<h1>Menu</h1>" in page.text
    assert '<a href="/">Menu</a>' in page.text
    assert "home" not in site.blueprints


def test_an_empty_menu_says_so(site):
    assert "The menu is empty for now." in site.test_client().get("/").text


def test_items_are_grouped_by_category_in_menu_order(site):
    add_items(site, MENU)
    page = site.test_client().get("/")
    assert _HEADINGS.findall(page.text) == ["Coffee", "Tea", "Food", "Other"]
    # Names sort alike whatever the case (SQLite would put "scone" after "Z...").
    assert names(page) == ["Americano", "Cold brew", "Flat white", "Earl Grey", "scone",
                           "Lemonade"]


def test_prices_show_with_the_currency_and_two_decimals(site):
    add_items(site, [("Tap water", "other", "0", True), ("Beans 5 kg", "other", "1250.5", True),
                     ("Mocha", "coffee", "3.1", True)])
    text = site.test_client().get("/").text
    for shown in ("€0.00", "€1,250.50", "€3.10"):
        assert f'<span class="price">{shown}</span>' in text


@pytest.mark.parametrize("value, shown", [
    (Decimal("3.2"), "€3.20"), (Decimal("0"), "€0.00"), (Decimal("9999.99"), "€9,999.99"),
    (Decimal("2.005"), "€2.01"), (3, "€3.00"), (None, ""),
])
def test_the_money_filter(value, shown):
    assert money(value) == shown


def test_unavailable_items_are_shown_as_such(site):
    add_items(site, MENU)
    text = site.test_client().get("/").text
    cold_brew = re.search(r'<li class="menu-item unavailable">\s*<a href="/items/\d+">Cold brew'
                          r".*?</li>", text, re.S)
    assert cold_brew and "not available" in cold_brew[0]
    flat_white = re.search(r'<li class="menu-item">\s*<a href="/items/\d+">Flat white.*?</li>',
                           text, re.S)
    assert flat_white and "not available" not in flat_white[0]


def test_the_nav_links_staff_pages_for_staff_only(site):
    make_user(site, "ada@example.com")
    make_user(site, "sam@example.com", role="staff")
    anonymous, customer, staff = (site.test_client() for _ in range(3))
    login(customer, "ada@example.com")
    login(staff, "sam@example.com")
    for client, shown in ((anonymous, False), (customer, False), (staff, True)):
        text = client.get("/").text
        assert '<a href="/">Menu</a>' in text
        assert ('href="/staff/items"' in text) is shown
        assert ('href="/staff/suppliers"' in text) is shown


def test_logging_in_lands_on_the_menu(site):
    make_user(site)
    response = login(site.test_client())
    assert response.status_code == 302 and response.location == "/"


# --- search and filter (the SQL differs per backend) --------------------------------------

SEARCH_MENU = [("Flat white", "coffee", "3.20", True), ("White tea", "tea", "2.40", True),
               ("100% orange", "other", "2.90", True), ("Half_and_half", "coffee", "3.00", True),
               ("Espresso", "coffee", "2.20", True), ("Back\\slash", "other", "1.00", True)]


@pytest.mark.parametrize("query, expected", [
    ("white", ["Flat white", "White tea"]),
    ("WHITE", ["Flat white", "White tea"]),
    ("  espresso ", ["Espresso"]),
    ("%", ["100% orange"]),  # LIKE's wildcards are plain characters
    ("_", ["Half_and_half"]),
    ("\\", ["Back\\slash"]),
    ("/", []),  # the escape character too
    ("latte", []),
    ("", ["Espresso", "Flat white", "Half_and_half", "White tea", "100% orange",
          "Back\\slash"]),
])
def test_search_by_name(migrated_app, query, expected):
    add_items(migrated_app, SEARCH_MENU)
    page = migrated_app.test_client().get("/", query_string={"q": query})
    assert page.status_code == 200
    assert names(page) == expected
    if not expected:
        assert "No items match." in page.text


def test_filter_by_category_and_search_together(migrated_app):
    add_items(migrated_app, SEARCH_MENU)
    client = migrated_app.test_client()
    assert names(client.get("/?category=tea")) == ["White tea"]
    assert names(client.get("/?category=coffee&q=white")) == ["Flat white"]
    assert names(client.get("/?category=food")) == []
    page = client.get("/?category=coffee")
    assert '<option value="coffee" selected>' in page.text
    assert _HEADINGS.findall(page.text) == ["Coffee"]


@pytest.mark.parametrize("search", ["a\x01b", "tab\there", "\x7f", "csi\x9b2J"])
def test_a_search_with_control_characters_is_400(migrated_app, search):
    # A 400, not a 500, on every backend (NUL is refused for every request before).
    response = migrated_app.test_client().get("/", query_string={"q": search})
    assert response.status_code == 400
    assert "Search for letters, digits and punctuation." in response.text


@pytest.mark.parametrize("query, message", [
    ("category=cake", "There is no such category."),
    ("category=COFFEE", "There is no such category."),
    ("q=" + "x" * 101, "Search for at most 100 characters."),
])
def test_bad_menu_requests_are_400(site, query, message):
    response = site.test_client().get("/?" + query)
    assert response.status_code == 400
    assert message in response.text


# --- pages --------------------------------------------------------------------------------

def test_the_menu_has_pages_with_links(site):
    add_items(site, many_items(45))
    client = site.test_client()
    first = client.get("/")
    assert len(names(first)) == 20
    assert 'href="/?page=2"' in first.text and 'href="/?page=3"' in first.text
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    last = client.get("/?page=3")
    assert len(names(last)) == 5
    assert 'href="/?page=2" rel="prev"' in last.text and 'rel="next"' not in last.text
    assert '<span class="current" aria-current="page">3</span>' in last.text
    every = names(first) + names(client.get("/?page=2")) + names(last)
    assert len(set(every)) == 45


def test_page_links_keep_the_search_and_the_filter(site):
    add_items(site, many_items(100))
    page = site.test_client().get("/?q=item&category=tea")
    assert len(names(page)) == 20
    assert 'href="/?page=2&amp;q=item&amp;category=tea"' in page.text


def test_one_page_has_no_page_links(site):
    add_items(site, MENU)
    assert 'class="pages"' not in site.test_client().get("/").text


@pytest.mark.parametrize("page, status", [
    ("4", 404), ("999999", 404), ("x", 400), ("0", 400), ("-1", 400), ("1.5", 400),
    ("9" * 30, 400), ("²", 400), ("1", 200), ("", 200),
])
def test_pages_out_of_range_or_not_numbers(site, page, status):
    add_items(site, many_items(45))
    response = site.test_client().get("/", query_string={"page": page})
    assert response.status_code == status


def test_page_one_of_an_empty_search_exists(site):
    assert site.test_client().get("/?q=nothing&page=1").status_code == 200


# --- an item's page -----------------------------------------------------------------------

def test_an_items_page(site):
    ids = add_items(site, MENU)
    page = site.test_client().get(f"/items/{ids['Flat white']}")
    assert page.status_code == 200
    assert "<h1>Flat white</h1>" in page.text
    assert "€3.20" in page.text and "About Flat white." in page.text
    assert "not available" not in page.text
    assert "not available" in site.test_client().get(f"/items/{ids['Cold brew']}").text


def test_an_unknown_item_is_404(site):
    response = site.test_client().get("/items/12345")
    assert response.status_code == 404
    assert "There is no such item on the menu." in response.text
    assert site.test_client().get("/items/abc").status_code == 404


def test_staff_see_an_edit_link_on_an_items_page(site):
    ids = add_items(site, MENU)
    make_user(site, "sam@example.com", role="staff")
    client = site.test_client()
    assert "/edit" not in client.get(f"/items/{ids['scone']}").text
    login(client, "sam@example.com")
    assert f'href="/staff/items/{ids["scone"]}/edit"' in client.get(f"/items/{ids['scone']}").text


# --- bounded queries ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/?q=item", "/?category=tea&q=1"])
def test_the_menu_runs_the_same_queries_for_5_or_60_items(make_app, migrated_sqlite, path):
    counts = []
    for size in (5, 60):
        app = make_app(SQLALCHEMY_DATABASE_URI=migrated_sqlite(f"{size}.sqlite"))
        add_items(app, many_items(size), supplier="Roaster")
        client = app.test_client()
        client.get("/")  # warm up: the first request may load more than the page
        with counted_queries(app) as statements:
            status = client.get(path).status_code
        counts.append((status, len(statements)))
    assert counts[1][1] == counts[0][1] <= 2
    assert counts[1][0] == 200
