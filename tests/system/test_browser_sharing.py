"""In headless Chromium, one conversation shared with the company at
"metadata only", seen by its owner and by a colleague who owns the linked
deal. The owner sees the subject, the email and its attachment, and the
Sharing settings; the colleague sees who wrote and when, a "Private content"
notice instead of the subject and the emails, no attachment, no Sharing
settings, and the subject and body are nowhere in the page. Screenshots go
to test-artifacts/."""
import email.utils
import os
import smtplib
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from .browser import ARTIFACTS, login, open_menu
from .sync_helpers import SyncedMailbox

pytestmark = pytest.mark.browser

OWNER, COLLEAGUE = 'petra', 'victor'
SENDER_NAME, SENDER_EMAIL = 'Quentin Harlow', 'quentin@harlow-capital.example'
SUBJECT = 'Larkspur acquisition: final offer'
BODY = 'Our board approved 4,750,000 EUR for Marigold Mills, signing on 30 June.'
MESSAGE_ID = 'larkspur-offer@harlow-capital.example'
DEAL = 'Harlow Capital: advisory mandate'
PLACEHOLDER = '(Private content)'
PDF_NAME = 'larkspur-term-sheet.pdf'
PDF = (b'%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n'
       b'2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n'
       b'trailer <</Root 1 0 R>>\n%%EOF\n')
# What only the full content shows: none of it may reach the colleague's page.
SECRETS = (SUBJECT, BODY, 'Larkspur', 'Marigold', '4,750,000', PDF_NAME)


def _send(relay, login):
    """One email with a PDF into ``login``'s mailbox, through the SMTP relay."""
    msg = EmailMessage()
    msg['From'] = '%s <%s>' % (SENDER_NAME, SENDER_EMAIL)
    msg['To'] = '%s@localhost' % login
    msg['Subject'] = SUBJECT
    msg['Date'] = email.utils.formatdate()
    msg['Message-ID'] = '<%s>' % MESSAGE_ID
    msg.set_content(BODY)
    msg.add_attachment(PDF, maintype='application', subtype='pdf', filename=PDF_NAME)
    with smtplib.SMTP(relay.host, relay.port, timeout=10) as smtp:
        smtp.send_message(msg)


@pytest.fixture(scope='module')
def shared(admin_rpc, dovecot, dovecot_fingerprint, smtp_relay):
    """Petra's mailbox with one conversation, linked to Victor's deal and shared
    with the company at "metadata only"."""
    company = admin_rpc('res.users', 'read', [admin_rpc.uid], ['company_id'])[0]['company_id'][0]
    create_contacts = admin_rpc('res.company', 'read', [company],
                                ['email_sync_create_contacts'])[0]['email_sync_create_contacts']
    # No contacts: the conversation is reached through its deal only.
    admin_rpc('res.company', 'write', [company], {'email_sync_create_contacts': False})
    try:
        salesman = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'sales_team.group_sale_salesman')
        employee = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'base.group_user')
        box = SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint, OWNER)
        admin_rpc('res.users', 'write', [box.user_id], {'groups_id': [(4, salesman)]})
        victor_id = admin_rpc('res.users', 'create', {
            'name': COLLEAGUE.title(), 'login': COLLEAGUE, 'password': COLLEAGUE + '-pw',
            'email': '%s@localhost' % COLLEAGUE,
            'groups_id': [(6, 0, [employee, salesman])]})
        victor = admin_rpc.as_user(COLLEAGUE, COLLEAGUE + '-pw')
        deal = admin_rpc('crm.lead', 'create', {'name': DEAL, 'type': 'opportunity', 'user_id': victor_id})
        assert victor('crm.lead', 'search', [('id', '=', deal)]) == [deal]  # he reads his deal

        _send(smtp_relay, OWNER)
        assert box.sync()['finished']
        owner = box.rpc
        email_id, = owner('email.sync.message', 'search', [('message_id', '=', MESSAGE_ID)])
        thread_id = owner('email.sync.message', 'read', [email_id], ['thread_id'])[0]['thread_id'][0]
        # Linked to Victor's deal (which the owner cannot read) as the rules would link it;
        # the sharing as the owner sets it from the conversation.
        admin_rpc('email.sync.thread', 'write', [thread_id], {'lead_id': deal})
        owner('email.sync.thread', 'write', [thread_id], {'visibility': 'shared', 'share_level': 'metadata'})
        assert owner('email.sync.thread', 'read', [thread_id], ['visibility', 'share_level', 'partner_ids'])[0] \
            == {'id': thread_id, 'visibility': 'shared', 'share_level': 'metadata', 'partner_ids': []}
        assert victor('email.sync.thread', 'search', []) == [thread_id]
        yield {'box': box, 'thread_id': thread_id}
        # Other tests' salespeople must not find this shared conversation in their Inbox.
        owner('email.sync.thread', 'write', [thread_id], {'visibility': 'private'})
    finally:
        admin_rpc('res.company', 'write', [company], {'email_sync_create_contacts': create_contacts})


def _column(page, title):
    """The cells of one column of the list, found by its title."""
    titles = [t.strip() for t in page.locator('.o_list_view thead th').all_inner_texts()]
    return page.locator('.o_list_view .o_data_row td:nth-child(%d)' % (titles.index(title) + 1))


def _sharing_group(page):
    return page.locator('.o_form_view .o_inner_group:has(.o_horizontal_separator:text-is("Sharing"))')


def _screenshot(page, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, name), full_page=True)


def _settled(page, notes=True):
    """No request of the web client pending (its "Loading" indicator gone), and
    the chatter, which loads last, shows the note of the link to the deal, or
    (``notes`` False: a reader below full content) no note at all."""
    messages = page.locator('.o_form_view .o_chatter .o_thread_message')
    if notes:
        expect(messages).to_contain_text('Linked to %s' % DEAL)
    else:
        expect(page.locator('.o_form_view .o_chatter')).to_be_visible()
    expect(page.locator('.o_loading')).to_be_hidden()
    if not notes:
        expect(messages).to_have_count(0)


def _assert_nothing_leaks(page, where):
    """Neither in the page's HTML (title included) nor in the value of a field."""
    html = page.content()
    values = page.eval_on_selector_all('input, textarea', 'nodes => nodes.map(n => n.value)')
    leaked = [secret for secret in SECRETS if secret in html or any(secret in v for v in values)]
    assert not leaked, (where, leaked)


def test_owner_and_colleague_see_a_metadata_only_conversation(page, odoo_server, shared):
    # --- the owner: everything, and the Sharing settings -------------------
    login(page, odoo_server, OWNER, OWNER + '-pw')
    open_menu(page, 'Email', 'Inbox')
    expect(_column(page, 'Subject')).to_have_text([SUBJECT])
    expect(_column(page, 'Participants')).to_have_text([SENDER_NAME])
    expect(_column(page, 'Deal')).to_have_text([DEAL])
    _column(page, 'Subject').first.click()
    page.wait_for_selector('.o_control_panel .breadcrumb .active:has-text("%s")' % SUBJECT)
    emails = page.locator('.o_form_view [name=conversation_html] .o_email_sync_email')
    expect(emails).to_have_count(1)
    expect(emails).to_contain_text(BODY)
    link = emails.locator('a:has-text("%s")' % PDF_NAME)
    expect(link).to_have_count(1)
    assert link.get_attribute('href').startswith('/web/content/'), link.get_attribute('href')
    expect(page.locator('.o_form_view .o_form_sheet h2 [name=name]')).to_have_text(SUBJECT)
    expect(page.locator('.o_form_view .o_form_sheet [name=lead_id]')).to_have_text(DEAL)
    expect(page.locator('.o_form_view .alert.o_email_sync_private')).to_be_hidden()
    sharing = _sharing_group(page)
    expect(sharing).to_be_visible()
    # Read mode: the radios show the chosen values.
    expect(sharing.locator('[name=visibility]')).to_have_text('Shared with the company')
    expect(sharing.locator('[name=share_level]')).to_have_text('Metadata only (people, dates, direction)')
    _settled(page)
    _screenshot(page, 'sharing-owner.png')

    # --- the colleague who owns the deal: who and when, nothing else --------
    page.goto(odoo_server.url + '/web/session/logout')
    page.wait_for_selector('input[name=login]')
    login(page, odoo_server, COLLEAGUE, COLLEAGUE + '-pw')
    open_menu(page, 'Email', 'Inbox')
    expect(page.locator('.o_list_view .o_data_row')).to_have_count(1)
    expect(_column(page, 'Subject')).to_have_text([PLACEHOLDER])
    expect(_column(page, 'Participants')).to_have_text([SENDER_NAME])
    expect(_column(page, 'Deal')).to_have_text([DEAL])
    expect(_column(page, 'Owner')).to_have_text([OWNER.title()])
    expect(page.locator('.o_loading')).to_be_hidden()
    _assert_nothing_leaks(page, 'Inbox list')

    _column(page, 'Subject').first.click()
    page.wait_for_selector('.o_control_panel .breadcrumb .active:has-text("%s")' % PLACEHOLDER)
    form = page.locator('.o_form_view')
    expect(form.locator('.o_form_sheet h2 [name=name]')).to_have_text(PLACEHOLDER)
    alert = form.locator('.alert.o_email_sync_private[role=alert]')
    expect(alert).to_be_visible()
    expect(alert).to_contain_text('Private content.')
    expect(alert).to_contain_text('The owner of this mailbox shares')
    expect(alert).to_contain_text('Metadata only')
    notice = form.locator('[name=conversation_html] .alert-info.o_email_sync_private')
    expect(notice).to_be_visible()
    expect(notice).to_have_text('Private content: the owner of this mailbox does not share the '
                                'emails themselves.')
    expect(form.locator('[name=conversation_html] .o_email_sync_email')).to_have_count(0)
    expect(form.locator('a[href^="/web/content/"]')).to_have_count(0)
    expect(form.locator('.o_form_sheet [name=correspondents]')).to_have_text(SENDER_NAME)
    expect(form.locator('.o_form_sheet [name=lead_id]')).to_have_text(DEAL)
    expect(form.locator('.o_form_sheet [name=user_id]')).to_have_text(OWNER.title())
    expect(_sharing_group(page)).to_be_hidden()
    expect(form.locator('[name=visibility]')).to_be_hidden()
    _settled(page, notes=False)  # notes are for readers of the full content
    assert BODY not in form.inner_text()
    _assert_nothing_leaks(page, 'conversation form')
    _screenshot(page, 'sharing-colleague.png')
