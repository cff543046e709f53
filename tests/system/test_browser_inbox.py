"""In headless Chromium, a salesperson reads their synced mail as conversations:
Email > Inbox lists one line per conversation, newest first, linked to the
customer's opportunity; the conversation shows every email in order with its
attachment; the contact and the opportunity open their conversations from an
"Emails" button. Unknown people who wrote became contacts, no-reply senders
did not. Screenshots go to test-artifacts/."""
import email.utils
import os
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from .browser import ARTIFACTS, login, open_menu
from .sync_helpers import SyncedMailbox

pytestmark = pytest.mark.browser

LOGIN = 'ines'
OWN = 'Ines <ines@localhost>'
CUSTOMER_NAME, CUSTOMER_EMAIL = 'Clara Northwind', 'clara@northwind-desks.example'
CUSTOMER = '%s <%s>' % (CUSTOMER_NAME, CUSTOMER_EMAIL)
DEAL = 'Northwind: 40 standing desks'
SUBJECT = 'Desks for the new office'
# A display name the address alone would not give ("jw" -> "Jw").
STRANGER_NAME, STRANGER_EMAIL = 'Jonas Weber', 'jw@kestrel-logistics.example'
STRANGER_SUBJECT = 'Question about your pricing'
NOREPLY_NAME, NOREPLY_EMAIL = 'Parcel Service', 'no-reply@somewhere.example'
NOREPLY_SUBJECT = 'Your parcel is on its way'
BODIES = ('Could you quote 40 standing desks for our new office?',
          'Certainly: 40 desks at 420 EUR each, delivery in three weeks.',
          'Thanks! Here is the floor plan; can you deliver to the second floor?')
PDF_NAME = 'floor-plan.pdf'
PDF = (b'%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n'
       b'2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n'
       b'trailer <</Root 1 0 R>>\n%%EOF\n')


def _mail(sender, to, subject, body, when, message_id, parents=(), attachment=None):
    msg = EmailMessage()
    msg['From'] = sender
    msg['To'] = to
    msg['Subject'] = subject
    msg['Date'] = email.utils.format_datetime(when)
    msg['Message-ID'] = '<%s>' % message_id
    if parents:
        msg['In-Reply-To'] = '<%s>' % parents[-1]
        msg['References'] = ' '.join('<%s>' % p for p in parents)
    msg.set_content(body)
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype='application', subtype='pdf', filename=name)
    return msg.as_bytes(policy=msg.policy.clone(linesep='\r\n'))


@pytest.fixture(scope='module')
def inbox(admin_rpc, dovecot, dovecot_fingerprint):
    """Ines, a salesperson, with a customer, the customer's open opportunity and
    a synced mailbox: a 3-email conversation with the customer (her reply in
    Sent, a PDF in the last email), a stranger's mail, a no-reply notification."""
    box = SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint, LOGIN)
    salesman = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'sales_team.group_sale_salesman_all_leads')
    admin_rpc('res.users', 'write', [box.user_id], {'groups_id': [(4, salesman)]})
    customer_id = admin_rpc('res.partner', 'create', {
        'name': CUSTOMER_NAME, 'email': CUSTOMER_EMAIL, 'customer': True})
    lead_id = admin_rpc('crm.lead', 'create', {
        'name': DEAL, 'type': 'opportunity', 'partner_id': customer_id, 'user_id': box.user_id})
    lead = box.rpc('crm.lead', 'read', [lead_id], ['probability', 'active'])[0]
    assert lead['active'] and lead['probability'] < 100, lead  # open, and the user sees it

    now = datetime.now(timezone.utc).replace(microsecond=0)
    ids = ['desks-%d@northwind-desks.example' % n for n in (1, 2, 3)]
    incoming = [
        _mail(CUSTOMER, OWN, SUBJECT, BODIES[0], now - timedelta(days=3), ids[0]),
        _mail(CUSTOMER, OWN, 'Re: ' + SUBJECT, BODIES[2], now - timedelta(days=1), ids[2],
              parents=ids[:2], attachment=(PDF_NAME, PDF)),
        # Between the conversation's second and last email: the Inbox sorts by last activity.
        _mail('%s <%s>' % (STRANGER_NAME, STRANGER_EMAIL), OWN, STRANGER_SUBJECT,
              'Hello, what would 10 desks cost?', now - timedelta(hours=36), 'q1@kestrel-logistics.example'),
        _mail('%s <%s>' % (NOREPLY_NAME, NOREPLY_EMAIL), OWN, NOREPLY_SUBJECT,
              'Parcel 123 will arrive tomorrow.', now - timedelta(days=4), 'parcel-123@somewhere.example'),
    ]
    for raw in incoming:
        dovecot.deliver(LOGIN, raw)  # over LMTP, as the mail server would
    reply = _mail(OWN, CUSTOMER, 'Re: ' + SUBJECT, BODIES[1], now - timedelta(days=2), ids[1],
                  parents=ids[:1])
    with box.imap() as client:
        client.append('Sent', reply, flags=[b'\\Seen'])  # as her mail program files what she sends
    box.sync()
    assert box.mailbox()['state'] == 'ok', box.mailbox()['last_error']
    return {'box': box, 'customer_id': customer_id, 'lead_id': lead_id}


def _column(page, title):
    """The cells of one column of the list, found by its title."""
    titles = [t.strip() for t in page.locator('.o_list_view thead th').all_inner_texts()]
    return page.locator('.o_list_view .o_data_row td:nth-child(%d)' % (titles.index(title) + 1))


def _click_smart_button(page, record_name, count):
    """The form's "Emails" button, once it shows ``count``; returns once the list opened
    (the form, now in the breadcrumb, a link back)."""
    button = page.locator('.o_form_view .oe_button_box button.oe_stat_button'
                          ':has(.o_stat_text:text-is("Emails"))')
    expect(button.locator('.o_stat_value')).to_have_text(str(count))
    button.click()
    page.wait_for_selector('.o_control_panel .breadcrumb li:not(.active) a:has-text("%s")' % record_name)
    page.wait_for_selector('.o_control_panel .breadcrumb .active:has-text("Emails of %s")' % record_name)
    page.wait_for_selector('.o_list_view .o_data_row')


def test_inbox_lists_conversations_and_shows_one_with_its_deal(page, odoo_server, inbox):
    login(page, odoo_server, LOGIN, LOGIN + '-pw')
    open_menu(page, 'Email', 'Inbox')
    # One line per conversation, the most recent activity first.
    expect(_column(page, 'Subject')).to_have_text([SUBJECT, STRANGER_SUBJECT, NOREPLY_SUBJECT])
    expect(_column(page, 'Emails')).to_have_text(['3', '1', '1'])
    expect(_column(page, 'Deal')).to_have_text([DEAL, '', ''])
    expect(_column(page, 'Participants')).to_have_text([CUSTOMER_NAME, STRANGER_NAME, NOREPLY_NAME])
    expect(_column(page, 'Contacts')).to_have_text([CUSTOMER_NAME, STRANGER_NAME, ''])
    attachments = _column(page, 'Attachments').locator('input[type=checkbox]')
    assert [attachments.nth(n).is_checked() for n in range(3)] == [True, False, False]

    _column(page, 'Subject').first.click()
    page.wait_for_selector('.o_control_panel .breadcrumb .active:has-text("%s")' % SUBJECT)
    emails = page.locator('.o_form_view [name=conversation_html] .o_email_sync_email')
    expect(emails).to_have_count(3)
    texts = emails.all_inner_texts()
    # Every email, oldest first, each with its sender.
    for text, body in zip(texts, BODIES):
        assert body in text, (body, texts)
    assert CUSTOMER_EMAIL in texts[0] and 'ines@localhost' in texts[1] and CUSTOMER_EMAIL in texts[2]
    link = emails.nth(2).locator('a:has-text("%s")' % PDF_NAME)
    expect(link).to_have_count(1)
    href = link.get_attribute('href')
    assert href.startswith('/web/content/'), href
    download = page.context.request.get(odoo_server.url + href)  # with the user's session
    assert download.ok and download.body() == PDF, (download.status, download.body()[:200])
    deal = page.locator('.o_form_view .o_form_sheet [name=lead_id]')
    expect(deal).to_have_text(DEAL)
    expect(page.locator('.o_form_view .o_form_sheet [name=message_count]')).to_have_text('3')
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, 'inbox-thread.png'), full_page=True)

    # The deal opens the opportunity; its Emails button leads back to the conversation.
    deal.click()
    page.wait_for_selector('.o_control_panel .breadcrumb .active:has-text("%s")' % DEAL)
    _click_smart_button(page, DEAL, 1)
    expect(_column(page, 'Subject')).to_have_text([SUBJECT])


def test_contact_emails_button_and_contacts_made_from_mail(page, odoo_server, inbox):
    box = inbox['box']
    login(page, odoo_server, LOGIN, LOGIN + '-pw')
    # Contacts app: find the customer, open her card.
    page.click('#oe_main_menu_navbar a.oe_menu_toggler:has-text("Contacts")')
    page.wait_for_selector('.o_control_panel .breadcrumb .active:has-text("Contacts")')
    page.click('.o_searchview_input')
    page.keyboard.type(CUSTOMER_NAME)
    page.keyboard.press('Enter')
    page.wait_for_selector('.o_searchview_facet')
    page.click('.o_kanban_record:has-text("%s")' % CUSTOMER_NAME)
    page.wait_for_selector('.o_form_view .o_form_sheet h1:has-text("%s")' % CUSTOMER_NAME)
    _click_smart_button(page, CUSTOMER_NAME, 1)
    expect(_column(page, 'Subject')).to_have_text([SUBJECT])
    expect(_column(page, 'Emails')).to_have_text(['3'])
    expect(_column(page, 'Deal')).to_have_text([DEAL])
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, 'contact-emails.png'), full_page=True)

    # What the salesperson sees over RPC: the stranger became a contact named as
    # they sign their mail; the no-reply sender did not; the customer was reused.
    everyone = {'active_test': False}
    stranger = box.rpc('res.partner', 'search_read', [('email', '=ilike', STRANGER_EMAIL)], ['name'],
                       context=everyone)
    assert [p['name'] for p in stranger] == [STRANGER_NAME]
    assert box.rpc('res.partner', 'search_count', [('email', 'ilike', NOREPLY_EMAIL)], context=everyone) == 0
    assert box.rpc('res.partner', 'search_count', [('name', '=', NOREPLY_NAME)], context=everyone) == 0
    assert box.rpc('res.partner', 'search', [('email', '=ilike', CUSTOMER_EMAIL)],
                   context=everyone) == [inbox['customer_id']]
    threads = box.rpc('email.sync.thread', 'search_read', [], ['name', 'partner_ids', 'lead_id'])
    by_subject = {t['name']: t for t in threads}
    assert set(by_subject) == {SUBJECT, STRANGER_SUBJECT, NOREPLY_SUBJECT}
    assert by_subject[STRANGER_SUBJECT]['partner_ids'] == [stranger[0]['id']]
    assert by_subject[NOREPLY_SUBJECT]['partner_ids'] == []
    assert by_subject[SUBJECT]['lead_id'][0] == inbox['lead_id']
