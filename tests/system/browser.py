"""Headless Chromium for the browser tests: fixtures and the moves a user makes."""
import os

import pytest

from devenv import paths

ARTIFACTS = os.path.join(paths.PROJECT_ROOT, 'test-artifacts')
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']


@pytest.fixture(scope='module')
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={'width': 1400, 'height': 1000}, locale='en-US')
    page = context.new_page()
    page.set_default_timeout(30000)
    yield page
    report = getattr(request.node, 'rep_call', None)
    if report is not None and report.failed:
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.screenshot(path=os.path.join(ARTIFACTS, 'FAILED-%s.png' % request.node.name), full_page=True)
    context.close()


def login(page, server, user, password):
    page.goto(server.url + '/web/login')
    page.fill('input[name=login]', user)
    page.fill('input[name=password]', password)
    page.click('button[type=submit]')
    page.wait_for_selector('#oe_main_menu_navbar')


def open_menu(page, app, item):
    """Odoo 11: apps in the top bar, their menus in the left sidebar."""
    page.click('#oe_main_menu_navbar a.oe_menu_toggler:has-text("%s")' % app)
    page.click('.o_sub_menu a.oe_menu_leaf:has-text("%s")' % item)
    # The breadcrumb names the new action once its view has replaced the old one.
    page.wait_for_selector('.o_control_panel .breadcrumb .active:has-text("%s")' % item)
    page.wait_for_selector('.o_list_view, .oe_view_nocontent')
