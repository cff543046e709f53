"""In headless Chromium, a salesperson connects their mailbox through the UI:
Email > Mailboxes > Create, Test connection, trust the local server's
certificate, and sees the folders. Screenshots go to test-artifacts/."""
import os

import pytest

from .browser import ARTIFACTS, login, open_menu

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def salesperson(admin_rpc):
    group = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'base.group_user')
    if not admin_rpc('res.users', 'search', [('login', '=', 'erin')]):
        admin_rpc('res.users', 'create', {'name': 'Erin Sales', 'login': 'erin', 'password': 'erin-pw',
                                          'groups_id': [(6, 0, [group])]})
    return 'erin', 'erin-pw'


def test_salesperson_connects_mailbox_and_sees_folders(page, odoo_server, salesperson, dovecot):
    os.makedirs(ARTIFACTS, exist_ok=True)
    login(page, odoo_server, *salesperson)
    open_menu(page, 'Email', 'Mailboxes')
    page.wait_for_selector('.o_list_button_add')

    page.click('.o_list_button_add')
    page.wait_for_selector('.o_form_view.o_form_editable')
    page.fill('input[name=name]', 'My work mailbox')
    page.fill('input[name=email]', 'bob@localhost')
    page.press('input[name=email]', 'Tab')
    # The form proposes the address as login (an onchange); then the user corrects it.
    page.wait_for_function("document.querySelector('input[name=login]').value === 'bob@localhost'")
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
