"""A real browser (Debian's headless Chromium, driven by Playwright) walks the café:
register, log in, order two items, see the order; staff moves it to ready; the
customer sees it ready. Screenshots of the menu and the queue go to test-artifacts/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.support.servers import DevelopmentSite
from tests.support.system import ROOT, command

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts"
# Headless, and quiet: this machine has no network but the loopback.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = command("chromium")
    from playwright.sync_api import sync_playwright

    # A home of its own: Chromium keeps crash reports and dconf's cache under $HOME
    # whatever its profile folder, and the suite leaves nothing behind.
    home = tmp_path_factory.mktemp("chromium-home")
    environment = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                   "XDG_CACHE_HOME": str(home / ".cache")}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                              env=environment)
        yield chromium
        chromium.close()


@pytest.fixture
def site(public_tmp):
    with DevelopmentSite(public_tmp / "instance") as running:
        yield running


def log_in(page, url, email, password):
    page.goto(url + "/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def test_order_from_registration_to_ready(browser, site, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    customer = browser.new_context()
    page = customer.new_page()

    page.goto(site.url + "/")
    assert "Flat white" in page.content()
    page.screenshot(path=str(ARTIFACTS / "menu.png"), full_page=True)

    page.goto(site.url + "/auth/register")
    page.fill("input[name=email]", "dana@example.com")
    page.fill("input[name=display_name]", "Dana")
    page.fill("input[name=password]", "Cortado-Morning-5")
    page.fill("input[name=confirm]", "Cortado-Morning-5")
    page.check("input[name=accept_terms]")
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "Thank you for registering" in page.content()
    log_in(page, site.url, "dana@example.com", "Cortado-Morning-5")
    assert "Welcome, Dana." in page.content()
    assert "Please confirm your email address" in page.content()
    # The confirmation link, from the mail (development runs jobs in-process).
    link = re.search(r"https?://[^/\s]+(/auth/confirm/[A-Za-z0-9_.\-]+)", site.mail())
    page.goto(site.url + link[1])
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "is confirmed" in page.content()

    page.goto(site.url + "/orders/new")
    flat_white = page.locator(".order-item", has_text="Flat white").locator("input")
    scone = page.locator(".order-item", has_text="Scone").locator("input")
    flat_white.fill("2")
    scone.fill("1")
    page.click("text=Review the order")
    page.wait_for_load_state()
    assert "8.85" in page.content()  # 2 x 3.20 + 2.45
    page.click("form.order-confirm button:has-text('Confirm')")
    page.wait_for_load_state()
    order_url = page.url
    assert "/orders/" in order_url and "placed" in page.content()

    staff = browser.new_context().new_page()
    log_in(staff, site.url, *site.demo_login("staff"))
    staff.goto(site.url + "/staff/queue")
    assert "Dana" in staff.content()
    staff.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
    # The demo data has open orders of its own: move Dana's.
    staff.locator(".queue-order", has_text="Dana").locator("text=Start preparing").click()
    staff.wait_for_load_state()
    staff.locator(".queue-order", has_text="Dana").locator("text=Mark ready").click()
    staff.wait_for_load_state()

    page.goto(order_url)
    assert "ready" in page.text_content("main")
    shutil.copy(ARTIFACTS / "menu.png", tmp_path / "menu.png")
    assert Path(ARTIFACTS / "queue.png").stat().st_size > 0


def test_admin_opens_the_dashboard_and_edits_an_item(browser, site):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, site.url, *site.demo_login("admin"))
    page.click("nav.site-nav >> text=Admin")
    page.wait_for_load_state()
    assert page.url == site.url + "/admin/"
    assert page.locator("svg[role=img]").count() >= 2  # the charts rendered
    page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)
    assert (ARTIFACTS / "admin-dashboard.png").stat().st_size > 10_000

    page.click("nav.admin-nav >> text=Items")
    page.fill("input[name=q]", "scone")
    page.click("form.admin-filters button[type=submit]")
    page.wait_for_load_state()
    page.click("table.admin-table >> text=Scone")
    page.wait_for_load_state()
    page.fill("input[name=price]", "2.65")
    page.fill("textarea[name=description]", "With jam, clotted cream and a smile.")
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "Item saved: Scone." in page.content()
    assert "€2.65" in page.text_content("table.admin-table")

    page.goto(site.url + "/?q=scone")  # the public menu shows the change
    assert "With jam, clotted cream and a smile." in page.content()
    assert "€2.65" in page.content()
    # No CSP violation or script error on the way (the console would report it).
    assert errors == []
