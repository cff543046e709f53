"""In headless Chromium, a salesperson finds their synced mail: the list,
a search by sender, one email with its body, and the mailbox's sync state."""
import os

import pytest

from .browser import ARTIFACTS, login, open_menu
from .sync_helpers import SyncedMailbox

pytestmark = pytest.mark.browser


def test_synced_mail_is_listed_searchable_and_readable(page, odoo_server, admin_rpc, dovecot,
                                                       dovecot_fingerprint):
    box = SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint, 'frank')
    box.seed(25, seed=21)
    box.sync()
    login(page, odoo_server, 'frank', 'frank-pw')

    open_menu(page, 'Email', 'Messages')
    assert page.inner_text('.o_pager_value') == '1-25' or page.locator('.o_data_row').count() == 25
    incoming = page.locator('.o_data_row:has(td:text-is("Incoming"))').first
    name = incoming.locator('td >> nth=3').inner_text().split(' <')[0].strip()
    page.click('.o_searchview_input')
    page.keyboard.type(name)  # the search view reacts to key strokes
    page.click('.o_searchview_autocomplete li:has-text("Search Sender for")')
    page.wait_for_selector('.o_searchview_facet')
    page.wait_for_function('document.querySelectorAll(".o_data_row").length < 25')
    rows = page.locator('.o_data_row')
    senders = rows.locator('td:nth-child(4)').all_inner_texts()
    assert senders and all(name in sender for sender in senders), senders

    rows.first.locator('td:nth-child(6)').click()
    page.wait_for_selector('.o_form_view')
    body = page.inner_text('.o_form_view .o_notebook')
    assert len(body.strip()) > 20
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, 'email-form.png'), full_page=True)

    open_menu(page, 'Email', 'Mailboxes')
    page.click('.o_data_row >> nth=0 >> td >> nth=1')
    status = page.wait_for_selector('.alert-success:has-text("In sync: 25 of 25 messages")')
    assert 'First import done: 25 messages' in status.inner_text()
    page.screenshot(path=os.path.join(ARTIFACTS, 'mailbox-in-sync.png'), full_page=True)
