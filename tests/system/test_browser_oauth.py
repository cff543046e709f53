"""In headless Chromium, a salesperson connects a mailbox by signing in: she
picks the preset, presses Sign in, signs in and allows access on the
provider's own page (the local OAuth server), comes back to the mailbox form,
trusts the local server's certificate and sees the folders; the sync then
imports her mail over XOAUTH2. Screenshots go to test-artifacts/."""
import os

import pytest

from .browser import ARTIFACTS, login, open_menu
from .oauth_crm import Salesperson

pytestmark = pytest.mark.browser


def test_salesperson_signs_in_on_the_providers_page_and_her_mail_syncs(page, oauth_crm):
    os.makedirs(ARTIFACTS, exist_ok=True)
    bianca = Salesperson(oauth_crm, 'bianca')
    waiting = bianca.deliver(3, 'browser')
    login(page, oauth_crm.server, 'bianca', bianca.password)
    open_menu(page, 'Email', 'Mailboxes')
    page.click('.o_list_button_add')
    page.wait_for_selector('.o_form_view.o_form_editable')
    page.fill('input[name=name]', 'Work')
    page.fill('.o_field_widget[name=provider_id] input', 'Local mail')
    page.click('.ui-autocomplete li a:has-text("Local mail")')
    # The preset signs in with a provider: no password field, a Sign in button.
    page.wait_for_selector('button.o_email_sync_oauth_sign_in:visible')
    assert page.locator('input[name=password]:visible').count() == 0
    page.screenshot(path=os.path.join(ARTIFACTS, 'oauth-mailbox-new.png'), full_page=True)
    page.click('.o_form_button_save')
    page.wait_for_selector('.o_form_view.o_form_readonly')

    page.click('button.o_email_sync_oauth_sign_in:visible')
    page.wait_for_url(oauth_crm.oauth.authorize_url + '*')
    assert 'openid' in page.inner_text('body')       # the page says what is asked
    page.fill('#login', bianca.address)
    page.fill('#password', bianca.oauth_password)
    page.screenshot(path=os.path.join(ARTIFACTS, 'oauth-consent.png'), full_page=True)
    page.click('#allow')

    # Back on the mailbox form: signed in; the local server's certificate is
    # self-signed, so the connection test asks to trust it first.
    page.wait_for_url('**/web#id=*model=email.sync.mailbox*')
    page.wait_for_selector('.alert-danger:has-text("is not trusted")')
    assert bianca.address in page.inner_text('.o_field_widget[name=oauth_account]')
    assert bianca.address in page.inner_text('.o_field_widget[name=email]')
    page.click('.o_form_statusbar button:has-text("Trust this certificate")')
    page.click('.modal-footer button.btn-primary')
    page.wait_for_selector('.alert-success:has-text("Connected")')
    rows = page.locator('.o_field_one2many[name=folder_ids] tr.o_data_row')
    rows.first.wait_for()
    assert rows.count() == 6
    assert page.locator('button:has-text("Disconnect"):visible').count() == 1
    page.screenshot(path=os.path.join(ARTIFACTS, 'oauth-mailbox-connected.png'), full_page=True)

    mailbox_id = int(page.url.split('#id=')[1].split('&')[0])
    assert bianca.sync(mailbox_id)['state'] == 'ok'
    assert sorted(bianca.stored_message_ids(mailbox_id)) == sorted(waiting)
    page.reload()
    stat = page.wait_for_selector('.oe_stat_button:has-text("Emails")')
    assert stat.inner_text().split()[0] == '3'


def test_consent_refused_in_the_browser_shows_why_and_leads_back(page, oauth_crm):
    nadia = Salesperson(oauth_crm, 'nadia')
    mailbox_id = nadia.create_mailbox(email=nadia.address)
    login(page, oauth_crm.server, 'nadia', nadia.password)
    page.goto('%s/web#id=%d&model=email.sync.mailbox&view_type=form' % (oauth_crm.server.url, mailbox_id))
    page.reload()   # a new hash alone does not make the web client open the record
    page.click('button.o_email_sync_oauth_sign_in:visible')
    page.wait_for_url(oauth_crm.oauth.authorize_url + '*')
    page.click('#deny')
    page.wait_for_selector('.o_email_sync_oauth_answer')
    assert 'You did not allow access' in page.inner_text('.o_email_sync_oauth_answer')
    assert 'Traceback' not in page.content()
    page.screenshot(path=os.path.join(ARTIFACTS, 'oauth-consent-refused.png'), full_page=True)
    page.click('.o_email_sync_oauth_answer a:has-text("Back to your mailbox")')
    page.wait_for_selector('.o_form_view')
    assert page.locator('button.o_email_sync_oauth_sign_in:visible').count() == 1
