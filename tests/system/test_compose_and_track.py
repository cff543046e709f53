"""Writing from the CRM, end to end: composed over RPC as the salesperson,
sent through the local SMTP relay (STARTTLS, the mailbox's own login) into
Dovecot, read back over IMAP by the recipient, whose "mail client" fetches
the tracking image and follows a tracked link over HTTP. The events, the
sender's notification, the icons, the Sent copy and the tracking rules are
then checked as the CRM shows them."""
import re
import time

import pytest
import requests

from .sync_helpers import SyncedMailbox, received

BROWSER_UA = ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
              'Chrome/126.0 Safari/537.36')
RECORDED = 'https://shop.example/pricing?plan=team&seats=40'


@pytest.fixture(scope='module')
def sofia(admin_rpc, dovecot, dovecot_fingerprint, smtp_relay, odoo_server):
    """A salesperson whose mailbox sends through the relay; Bob is her customer."""
    # Links in sent mail point at this server, as they would at a real one.
    admin_rpc('ir.config_parameter', 'set_param', 'web.base.url', odoo_server.url)
    box = SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint, 'sofia')
    box.rpc('email.sync.mailbox', 'write', [box.mailbox_id], {
        'smtp_host': smtp_relay.host, 'smtp_port': smtp_relay.port, 'smtp_security': 'starttls',
        'signature': '<p>Sofia, Sales</p>'})
    box.rpc('email.sync.mailbox', 'action_test_connection', [box.mailbox_id])
    assert box.sync()['finished']
    box.customer = admin_rpc('res.partner', 'create', {'name': 'Bob Buyer', 'email': 'bob@localhost'})
    return box


def _compose(box, subject, body, **values):
    """As the web client does: the composer's defaults (signature, tracking), then the user's input."""
    fields = ['mailbox_id', 'body', 'track_opens', 'track_clicks', 'to_partner_ids']
    defaults = box.rpc('email.sync.composer', 'default_get', fields)
    defaults.update({'mailbox_id': box.mailbox_id, 'to_partner_ids': [(6, 0, [box.customer])],
                     'subject': subject, 'body': body + defaults.get('body', ''),
                     'track_opens': True, 'track_clicks': True}, **values)
    composer = box.rpc('email.sync.composer', 'create', defaults)
    action = box.rpc('email.sync.composer', 'action_send', [composer])
    return action['res_id']


def _received(dovecot, subject):
    """The message as Bob's mail client gets it."""
    return received(dovecot, 'bob', 'bob-pass', subject)


def _html(message):
    return message.get_body(('html',)).get_content()


def _process(admin_rpc):
    cron = admin_rpc('ir.model.data', 'xmlid_to_res_id',
                     'email_crm_sync.email_sync_tracking_event_cron_process')
    admin_rpc('ir.cron', 'method_direct_trigger', [cron])


def _events(box, email_id):
    ids = box.rpc('email.sync.tracking.event', 'search', [('message_id', '=', email_id)])
    return box.rpc('email.sync.tracking.event', 'read', ids, ['kind', 'machine', 'url'])


def test_sent_read_opened_clicked_and_told(sofia, admin_rpc, dovecot, odoo_server):
    sent_at = time.monotonic()
    thread_id = _compose(sofia, 'Team plan offer',
                         '<p>Dear Bob, see <a href="%s">our prices</a>.</p>' % RECORDED.replace('&', '&amp;'))
    message = _received(dovecot, 'Team plan offer')
    assert message['From'].addresses[0].addr_spec == 'sofia@localhost'
    html = _html(message)
    assert 'Sofia, Sales' in html and 'dir="auto"' in html
    pixel = re.search(r'src="([^"]*/ecs/t/o/[^"]+\.gif)"', html).group(1)
    link = re.search(r'href="([^"]*/ecs/t/c/[^"]+)"', html).group(1)
    assert RECORDED not in html  # the link goes through the CRM
    # A mail privacy proxy fetches the image as soon as the message arrives.
    proxy = requests.get(pixel, headers={'User-Agent': 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)'})
    proxy_at = time.monotonic()
    assert proxy.status_code == 200 and proxy.headers['Content-Type'] == 'image/gif'

    # In the CRM at once, in the conversation, as outgoing mail.
    email_id, = sofia.rpc('email.sync.message', 'search', [('thread_id', '=', thread_id)])
    stored = sofia.rpc('email.sync.message', 'read', [email_id], ['direction', 'message_id', 'body_html'])[0]
    assert stored['direction'] == 'out' and stored['message_id'] == message['Message-ID'].strip('<>')
    assert '/ecs/t/' not in stored['body_html']
    # The Sent copy, appended over IMAP, without tracking; the next sync finds it, no duplicate.
    with sofia.imap() as client:
        client.select_folder('Sent', readonly=True)
        uids = client.search(['HEADER', 'Message-ID', message['Message-ID']])
        assert len(uids) == 1
        copy = client.fetch(uids, ['BODY.PEEK[]'])[uids[0]][b'BODY[]']
        assert b'/ecs/t/' not in copy
    assert sofia.sync()['finished']
    assert sofia.rpc('email.sync.message', 'search_count', [('thread_id', '=', thread_id)]) == 1
    folders = sofia.rpc('email.sync.message', 'read', [email_id], ['folder_names'])[0]['folder_names']
    assert 'Sent' in folders

    # Bob opens it later (past the proxy window and the repeat window).
    time.sleep(max(0, 10.5 - (time.monotonic() - sent_at), 10.5 - (time.monotonic() - proxy_at)))
    opened = requests.get(pixel, headers={'User-Agent': BROWSER_UA})
    assert opened.content == proxy.content and len(opened.content) < 100
    requests.get(pixel, headers={'User-Agent': BROWSER_UA})  # the same open again: counts once
    clicked = requests.get(link, headers={'User-Agent': BROWSER_UA}, allow_redirects=False)
    assert clicked.status_code == 302 and clicked.headers['Location'] == RECORDED
    evil = requests.get(link + '?url=https://evil.example/', allow_redirects=False,
                        headers={'User-Agent': BROWSER_UA})
    assert evil.headers['Location'] == RECORDED  # never a URL from the request
    for _replay in range(3):  # whoever holds the link replays it: counted and told once
        requests.get(link, headers={'User-Agent': BROWSER_UA}, allow_redirects=False)

    events = _events(sofia, email_id)
    assert sorted((e['kind'], e['machine']) for e in events) == [
        ('click', False), ('open', False), ('open', True)]
    _process(admin_rpc)
    counts = sofia.rpc('email.sync.message', 'read', [email_id], ['open_count', 'click_count'])[0]
    assert (counts['open_count'], counts['click_count']) == (2, 1)  # the proxy open promoted by the click
    # The sender is told in her inbox, with the link clicked...
    inbox = ' '.join(n['body'] for n in sofia.rpc('mail.message', 'search_read',
                                                  [('needaction', '=', True)], ['body']))
    assert 'was opened' in inbox and inbox.count('was clicked: %s' % RECORDED.replace('&', '&amp;')) == 1
    # ... and nowhere else: the conversation's feed, which colleagues may read, says nothing.
    feed = sofia.rpc('mail.message', 'search_read', [('model', '=', 'email.sync.thread'),
                                                     ('res_id', '=', thread_id)], ['body', 'record_name'])
    bodies = ' '.join(n['body'] for n in feed)
    assert 'was opened' not in bodies and 'was clicked' not in bodies
    # The icons, with times on hover.
    conversation = sofia.rpc('email.sync.thread', 'read', [thread_id], ['conversation_html', 'opened'])[0]
    assert conversation['opened']
    assert 'fa-eye' in conversation['conversation_html'] and '1 click(s)' in conversation['conversation_html']
    assert sofia.rpc('email.sync.thread', 'search_count', [('id', '=', thread_id), ('opened', '=', True)]) == 1

    # Forged and unknown tokens: the same image, no event; a plain 404 for clicks.
    base = odoo_server.url
    forged_pixel = re.sub(r'(/ecs/t/o/\d+\.\d+\.)[^.]+', r'\1AAAAAAAAAAAAAAAAAAAAAA', pixel)
    for url in (forged_pixel, base + '/ecs/t/o/garbage.gif', base + '/ecs/t/o/999999.0.AAAAAAAAAAAAAAAAAAAAAA.gif'):
        answer = requests.get(url, headers={'User-Agent': BROWSER_UA})
        assert answer.status_code == 200 and answer.content == opened.content, url
    forged_link = link[:-3] + ('AAA' if not link.endswith('AAA') else 'BBB')
    other_index = re.sub(r'(/ecs/t/c/\d+\.)0\.', r'\g<1>1.', link)
    for url in (forged_link, other_index, base + '/ecs/t/c/garbage', base + '/ecs/t/c/1.0.A%00B',
                base + '/ecs/t/x%00y'):
        answer = requests.get(url, allow_redirects=False)
        assert answer.status_code == 404 and 'Location' not in answer.headers, url
        assert 'Traceback' not in answer.text and 'site-packages' not in answer.text
    nul_pixel = requests.get(base + '/ecs/t/o/1.0.A%00B.gif')
    assert nul_pixel.status_code == 200 and nul_pixel.content == opened.content
    assert len(_events(sofia, email_id)) == 3


def test_without_tracking_nothing_is_rewritten(sofia, dovecot):
    _compose(sofia, 'Untracked note', '<p><a href="%s">prices</a></p>' % RECORDED.replace('&', '&amp;'),
             track_opens=False, track_clicks=False)
    html = _html(_received(dovecot, 'Untracked note'))
    assert '/ecs/t/' not in html and 'href="%s"' % RECORDED.replace('&', '&amp;') in html


def test_the_company_kill_switch_wins(sofia, admin_rpc, dovecot):
    company = admin_rpc('res.users', 'read', [sofia.user_id], ['company_id'])[0]['company_id'][0]
    admin_rpc('res.company', 'write', [company], {'email_sync_tracking_disabled': True})
    try:
        _compose(sofia, 'Consent matters', '<p><a href="https://shop.example/">shop</a></p>')
        html = _html(_received(dovecot, 'Consent matters'))
        assert '/ecs/t/' not in html
    finally:
        admin_rpc('res.company', 'write', [company], {'email_sync_tracking_disabled': False})


def test_an_smtp_failure_keeps_the_draft_and_says_why(sofia, smtp_relay):
    sofia.rpc('email.sync.mailbox', 'write', [sofia.mailbox_id], {'smtp_port': 9})
    composer = sofia.rpc('email.sync.composer', 'create', {
        'mailbox_id': sofia.mailbox_id, 'to_partner_ids': [(6, 0, [sofia.customer])],
        'subject': 'Never sent', 'body': '<p>Keep me</p>'})
    try:
        with pytest.raises(Exception) as caught:
            sofia.rpc('email.sync.composer', 'action_send', [composer])
        assert 'The email was not sent' in str(caught.value)
        assert 'Keep me' in sofia.rpc('email.sync.composer', 'read', [composer], ['body'])[0]['body']
        assert sofia.rpc('email.sync.message', 'search_count', [('subject', '=', 'Never sent')]) == 0
    finally:
        sofia.rpc('email.sync.mailbox', 'write', [sofia.mailbox_id], {'smtp_port': smtp_relay.port})
