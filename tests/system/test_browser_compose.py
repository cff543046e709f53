"""In headless Chromium, a salesperson writes to a customer from the deal:
the opportunity's "Write email" button opens the composer with the customer
in To and her signature under the text; she types a subject and a few lines
(one in Arabic) and sends. The conversation opens with her email in it, and
"Reply" on it opens the composer again, answering the customer. The customer
receives the email through the SMTP relay (read over IMAP, the Arabic line laid
out by its own script, the open-tracking image in it) and the deal counts the
conversation. Screenshots go to test-artifacts/."""
import os

import lxml.html
import pytest
from playwright.sync_api import expect

from .browser import ARTIFACTS, login
from .sync_helpers import SyncedMailbox, received

pytestmark = pytest.mark.browser

LOGIN = 'wanda'
SIGNATURE = 'Wanda Whitfield, Sales'
CUSTOMER_NAME, CUSTOMER_EMAIL = 'Bob Buyer', 'bob@localhost'
DEAL = 'Bob Buyer: 12 meeting chairs'
SUBJECT = 'Your quote for 12 meeting chairs'
GREETING = 'Dear Bob,'
BODY = 'here is the quote for the 12 chairs: 95 EUR each, delivery in two weeks.'
ARABIC = 'شكرا لاهتمامكم، سنرسل العينات غدا.'


@pytest.fixture(scope='module')
def deal(admin_rpc, dovecot, dovecot_fingerprint, smtp_relay, odoo_server):
    """Wanda, a salesperson whose mailbox sends through the relay, with a signature;
    Bob, her customer, and his open opportunity, owned by her."""
    # Links in sent mail point at this server, as they would at a real one.
    admin_rpc('ir.config_parameter', 'set_param', 'web.base.url', odoo_server.url)
    box = SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint, LOGIN)
    salesman = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'sales_team.group_sale_salesman_all_leads')
    admin_rpc('res.users', 'write', [box.user_id], {'groups_id': [(4, salesman)]})
    box.rpc('email.sync.mailbox', 'write', [box.mailbox_id], {
        'smtp_host': smtp_relay.host, 'smtp_port': smtp_relay.port, 'smtp_security': 'starttls',
        'signature': '<p>%s</p>' % SIGNATURE})
    box.rpc('email.sync.mailbox', 'action_test_connection', [box.mailbox_id])
    assert box.mailbox()['state'] == 'ok', box.mailbox()['last_error']
    assert box.sync()['finished']
    customer_id = admin_rpc('res.partner', 'create', {
        'name': CUSTOMER_NAME, 'email': CUSTOMER_EMAIL, 'customer': True})
    lead_id = admin_rpc('crm.lead', 'create', {
        'name': DEAL, 'type': 'opportunity', 'partner_id': customer_id, 'user_id': box.user_id})
    lead = box.rpc('crm.lead', 'read', [lead_id], ['probability', 'active', 'email_sync_thread_count'])[0]
    assert lead['active'] and lead['probability'] < 100, lead  # open, and the user sees it
    assert lead['email_sync_thread_count'] == 0, lead
    return {'box': box, 'customer_id': customer_id, 'lead_id': lead_id}


def _received(dovecot, subject):
    """The message as Bob's mail client gets it."""
    return received(dovecot, 'bob', 'bob-pass', subject)


def _open_deal(page, server, lead_id):
    """The opportunity's form, by its URL. A full page load ("/web?" rather than "/web"):
    changing only the hash of the page login() left would race the web client still
    opening its home action (Discuss), which then wins."""
    page.goto(server.url + '/web?#id=%d&model=crm.lead&view_type=form' % lead_id)
    page.wait_for_selector('.o_control_panel .breadcrumb .active:has-text("%s")' % DEAL)
    page.wait_for_selector('.o_form_view .o_form_sheet .oe_button_box')


def _composer(page):
    """The composer dialog, once its form is there."""
    dialog = page.locator('.modal:has(.modal-title:has-text("Write an email")), '
                          '.modal:has(.modal-title:has-text("Reply"))').last
    expect(dialog.locator('.o_form_view')).to_be_visible()
    return dialog


def _expect_to(dialog, name):
    tags = dialog.locator('.o_field_widget[name=to_partner_ids] .badge')
    expect(tags).to_have_count(1)
    expect(tags).to_contain_text(name)


def test_write_from_the_deal_send_and_reply(page, odoo_server, dovecot, deal):
    box = deal['box']
    login(page, odoo_server, LOGIN, LOGIN + '-pw')
    _open_deal(page, odoo_server, deal['lead_id'])

    # "Write email" on the deal: Bob in To, the signature under room to write.
    page.click('.o_form_view .oe_button_box button.oe_stat_button:has-text("Write email")')
    dialog = _composer(page)
    _expect_to(dialog, CUSTOMER_NAME)
    expect(dialog.locator('.o_field_widget[name=mailbox_id] input')).to_have_value('Work')
    editor = dialog.locator('.note-editable')
    expect(editor).to_have_count(1)
    expect(editor.locator('.o_email_sync_signature')).to_contain_text(SIGNATURE)

    dialog.locator('input[name=subject]').fill(SUBJECT)
    # The empty paragraph above the signature is where the text goes.
    editor.locator('p').first.click()
    page.keyboard.type(GREETING)
    page.keyboard.press('Enter')
    page.keyboard.type(BODY)
    page.keyboard.press('Enter')
    page.keyboard.type(ARABIC)
    expect(editor).to_contain_text(ARABIC)
    # What was typed sits above the signature.
    typed = editor.inner_text()
    assert typed.index(GREETING) < typed.index(BODY) < typed.index(ARABIC) < typed.index(SIGNATURE), typed
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, 'compose-dialog.png'), full_page=True)

    dialog.locator('.modal-footer button:has-text("Send")').click()
    # The conversation opens, the sent email in it.
    expect(page.locator('.modal .o_form_view')).to_have_count(0)
    page.wait_for_selector('.o_form_view .o_form_sheet [name=name]:has-text("%s")' % SUBJECT)
    emails = page.locator('.o_form_view [name=conversation_html] .o_email_sync_email')
    expect(emails).to_have_count(1)
    for text in (GREETING, BODY, ARABIC, SIGNATURE):
        expect(emails.first).to_contain_text(text)
    expect(page.locator('.o_form_view .o_form_sheet [name=lead_id]')).to_have_text(DEAL)
    page.screenshot(path=os.path.join(ARTIFACTS, 'compose-sent.png'), full_page=True)

    # "Reply" on the conversation: the subject answered, Bob in To again. Discarded.
    page.click('.o_form_view .o_statusbar_buttons button:text-is("Reply")')
    dialog = _composer(page)
    expect(dialog.locator('input[name=subject]')).to_have_value('Re: ' + SUBJECT)
    _expect_to(dialog, CUSTOMER_NAME)
    expect(dialog.locator('.note-editable blockquote')).to_contain_text(BODY)
    dialog.locator('.modal-footer button:has-text("Discard")').click()
    expect(page.locator('.modal')).to_have_count(0)
    expect(emails).to_have_count(1)

    # Bob's mail client: from Wanda, the text, the Arabic line in a dir="auto"
    # element, the signature and (tracking is on by default) the open image.
    message = _received(dovecot, SUBJECT)
    assert message['From'].addresses[0].addr_spec == '%s@localhost' % LOGIN
    assert [a.addr_spec for a in message['To'].addresses] == [CUSTOMER_EMAIL]
    assert str(message['Subject']) == SUBJECT
    html = message.get_body(('html',)).get_content()
    document = lxml.html.fromstring(html)
    text = document.text_content()
    for expected in (GREETING, BODY, ARABIC, SIGNATURE):
        assert expected in text, (expected, html)
    assert any(ARABIC in element.text_content() for element in document.xpath('//*[@dir="auto"]')), html
    pixels = [src for src in document.xpath('//img/@src') if '/ecs/t/o/' in src]
    assert len(pixels) == 1 and pixels[0].startswith(odoo_server.url), html
    plain = message.get_body(('plain',)).get_content()
    assert BODY in plain and ARABIC in plain, plain

    # The deal counts the conversation; only the sent email is in it (the reply was discarded).
    lead = box.rpc('crm.lead', 'read', [deal['lead_id']], ['email_sync_thread_count'])[0]
    assert lead['email_sync_thread_count'] == 1, lead
    thread, = box.rpc('email.sync.thread', 'search_read', [('lead_id', '=', deal['lead_id'])],
                      ['name', 'message_count'])
    assert (thread['name'], thread['message_count']) == (SUBJECT, 1), thread


def test_composer_offers_the_tracking_choice(page, odoo_server, deal):
    box = deal['box']
    company = box.admin('res.users', 'read', [box.user_id], ['company_id'])[0]['company_id'][0]
    assert not box.admin('res.company', 'read', [company],
                         ['email_sync_tracking_disabled'])[0]['email_sync_tracking_disabled']
    login(page, odoo_server, LOGIN, LOGIN + '-pw')
    _open_deal(page, odoo_server, deal['lead_id'])
    page.click('.o_form_view .oe_button_box button.oe_stat_button:has-text("Write email")')
    dialog = _composer(page)
    _expect_to(dialog, CUSTOMER_NAME)
    try:
        expect(dialog.locator(':text("Tracking is disabled for the company.")')).to_be_hidden(timeout=2000)
        for name in ('track_opens', 'track_clicks'):
            checkbox = dialog.locator('.o_field_widget[name=%s] input[type=checkbox]' % name)
            expect(checkbox).to_be_visible(timeout=2000)
            expect(checkbox).to_be_checked()
    finally:
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.screenshot(path=os.path.join(ARTIFACTS, 'compose-tracking-choice.png'), full_page=True)
        dialog.locator('.modal-footer button:has-text("Discard")').click()
