"""In headless Chromium, a salesperson connects their mailbox through the UI:
Email > Mailboxes > Create, Test connection, trust the local server's
certificate, and sees the folders. Screenshots go to test-artifacts/."""
import os

import pytest

from devenv import paths

ARTIFACTS = os.path.join(paths.PROJECT_ROOT, 'test-artifacts')
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync']

pytestmark = pytest.mark.browser


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


@pytest.fixture(scope='module')
def salesperson(admin_rpc):
    group = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'base.group_user')
    if not admin_rpc('res.users', 'search', [('login', '=', 'erin')]):
        admin_rpc('res.users', 'create', {'name': 'Erin Sales', 'login': 'erin', 'password': 'erin-pw',
                                          'groups_id': [(6, 0, [group])]})
    return 'erin', 'erin-pw'


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
    page.wait_for_selector('.o_list_buttons .o_list_button_add')


def test_salesperson_connects_mailbox_and_sees_folders(page, odoo_server, salesperson, dovecot):
    os.makedirs(ARTIFACTS, exist_ok=True)
    login(page, odoo_server, *salesperson)
    open_menu(page, 'Email', 'Mailboxes')

    page.click('.o_list_button_add')
    page.wait_for_selector('.o_form_view.o_form_editable')
    page.fill('input[name=name]', 'My work mailbox')
    page.fill('input[name=email]', 'bob@localhost')
    page.fill('input[name=login]', 'bob')
    page.fill('input[name=password]:visible', 'bob-pass')
    page.fill('input[name=imap_host]', dovecot.host)
    page.fill('input[name=imap_port]', str(dovecot.imaps_port))
    page.select_option('select[name=imap_security]', '"ssl"')
    page.click('.o_form_button_save')
    page.wait_for_selector('.o_form_view.o_form_readonly')

    page.click('.o_form_statusbar button:has-text("Test connection")')
    alert = page.wait_for_selector('.alert-danger:has-text("is not trusted")')
    assert 'self-signed certificate' in alert.inner_text()
    fingerprint = page.inner_text('.alert-danger span[name=tls_offered_fingerprint]')
    assert len(fingerprint.strip()) == 95
    page.screenshot(path=os.path.join(ARTIFACTS, 'mailbox-certificate-not-trusted.png'), full_page=True)

    page.click('.o_form_statusbar button:has-text("Trust this certificate")')
    page.click('.modal-footer button.btn-primary')  # "Only trust a certificate whose ..." confirm
    page.wait_for_selector('.alert-success:has-text("Connected")')
    rows = page.locator('.o_field_one2many[name=folder_ids] tr.o_data_row')
    rows.first.wait_for()
    # Each row reads "<name>\t<role>": the folders and the roles the server flagged.
    listed = sorted(tuple(cell.strip() for cell in row.split('\t')[:2]) for row in rows.all_inner_texts())
    assert listed == [('Archive', 'Archive'), ('Drafts', 'Drafts'), ('INBOX', 'Inbox'),
                      ('Junk', 'Junk / Spam'), ('Sent', 'Sent'), ('Trash', 'Trash')]
    assert page.locator('.o_statusbar_status button.btn-primary:has-text("Connected")').count() == 1
    assert page.locator('.alert-danger:visible').count() == 0
    page.screenshot(path=os.path.join(ARTIFACTS, 'mailbox-connected.png'), full_page=True)
