"""Mail sent through the local SMTP relay into Dovecot, synced, and found in
the CRM threaded, matched to contacts, linked to deals, or not synced at
all, as the rules say. Everything is read back over RPC as the salesperson."""
import email.utils
import smtplib
import time
from email.message import EmailMessage

import pytest

from .sync_helpers import SyncedMailbox

OWN = 'quinn@ourco.example'


def _mail(sender, to, subject, message_id, in_reply_to=None, references=(), cc=(), body='Hello',
          hours_ago=0):
    msg = EmailMessage()
    msg['From'], msg['To'], msg['Subject'] = sender, ', '.join(to), subject
    if cc:
        msg['Cc'] = ', '.join(cc)
    msg['Date'] = email.utils.formatdate(time.time() - hours_ago * 3600, localtime=False)
    msg['Message-ID'] = '<%s>' % message_id
    if in_reply_to:
        msg['In-Reply-To'] = '<%s>' % in_reply_to
    if references:
        msg['References'] = ' '.join('<%s>' % r for r in references)
    msg.set_content(body)
    return msg


@pytest.fixture
def quinn(admin_rpc, dovecot, dovecot_fingerprint):
    """A salesperson at ourco.example whose mailbox is on the test Dovecot."""
    box = SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint, 'quinn')
    sales = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'sales_team.group_sale_salesman_all_leads')
    admin_rpc('res.users', 'write', [box.user_id], {
        'groups_id': [(4, sales)], 'email_sync_blocked': 'deals@spam.example'})
    box.rpc('email.sync.mailbox', 'write', [box.mailbox_id], {'email': OWN})
    company_id = admin_rpc('res.users', 'read', [box.user_id], ['company_id'])[0]['company_id'][0]
    before = admin_rpc('res.company', 'read', [company_id], ['email_sync_internal_domains'])[0]
    admin_rpc('res.company', 'write', [company_id], {'email_sync_internal_domains': 'ourco.example'})
    try:
        yield box
    finally:
        admin_rpc('res.company', 'write', [company_id], {
            'email_sync_internal_domains': before['email_sync_internal_domains']})


def _send(relay, box, msg):
    """Through SMTP; the envelope goes to the Dovecot user whatever the headers say."""
    with smtplib.SMTP(relay.host, relay.port, timeout=10) as smtp:
        assert smtp.send_message(msg, to_addrs=['%s@localhost' % box.login]) == {}


def _sent(box, msg):
    """What the user wrote in their own mail client: in Sent."""
    with box.imap() as client:
        client.append('Sent', msg.as_bytes(), flags=['\\Seen'])


def _threads(box, domain=()):
    return box.rpc('email.sync.thread', 'search_read', list(domain),
                   ['name', 'message_count', 'partner_ids', 'lead_id', 'suggested_lead_ids'],
                   context={'active_test': False})


def _thread_of(box, message_id):
    email_id = box.rpc('email.sync.message', 'search', [('message_id', '=', message_id)])
    assert email_id, message_id
    thread_id = box.rpc('email.sync.message', 'read', email_id, ['thread_id'])[0]['thread_id']
    return thread_id and thread_id[0]


def _partner(box, address):
    found = box.rpc('res.partner', 'search_read', [('email_sync_normalized', '=', address)], ['name'],
                    context={'active_test': False})
    return found[0] if found else None


def test_mail_through_smtp_is_threaded_matched_and_linked(quinn, admin_rpc, smtp_relay):
    erin = admin_rpc('res.partner', 'create', {'name': 'Erin Buyer', 'email': 'erin@buyer.example'})
    deal = admin_rpc('crm.lead', 'create', {'name': 'Erin: 40 seats', 'type': 'opportunity',
                                            'partner_id': erin, 'user_id': quinn.user_id})
    fay = admin_rpc('res.partner', 'create', {'name': 'Fay Two-Deals', 'email': 'fay@buyer.example'})
    fay_deals = [admin_rpc('crm.lead', 'create', {'name': 'Fay %s' % n, 'type': 'opportunity',
                                                  'partner_id': fay, 'user_id': quinn.user_id})
                 for n in 'AB']
    zed = admin_rpc('res.partner', 'create', {'name': 'Zed Gone', 'email': 'zed@old.example'})
    admin_rpc('res.partner', 'unlink', [zed])

    carl = 'Carl Customer <carl@customer.example>'
    _send(smtp_relay, quinn, _mail(carl, [OWN], 'Offer for 2027', 'o1@customer.example'))
    _sent(quinn, _mail(OWN, [carl], 'Re: Offer for 2027', 'o2@ourco.example',
                       in_reply_to='o1@customer.example', references=['o1@customer.example']))
    # Carl's client dropped the headers: the subject and the people tie it in.
    _send(smtp_relay, quinn, _mail(carl, [OWN], 'AW: Re: Offer for 2027', 'o3@customer.example'))
    _send(smtp_relay, quinn, _mail('Colleague <pat@ourco.example>', [OWN], 'Lunch?', 'in1@ourco.example'))
    _send(smtp_relay, quinn, _mail('deals@spam.example', [OWN], 'Win big', 'sp1@spam.example'))
    _send(smtp_relay, quinn, _mail('deals@spam.example', [OWN], 'Joint offer', 'sp2@spam.example',
                                   cc=[carl]))
    _send(smtp_relay, quinn, _mail('Shop <no-reply@shop.example>', [OWN], 'Your order', 'n1@shop.example'))
    _send(smtp_relay, quinn, _mail('Erin Buyer <erin@buyer.example>', [OWN], 'Seats', 'e1@buyer.example'))
    _send(smtp_relay, quinn, _mail('fay@buyer.example', [OWN], 'Which deal?', 'f1@buyer.example'))
    _send(smtp_relay, quinn, _mail('Zed <zed@old.example>', [OWN], 'Back again', 'z1@old.example'))
    # A reply whose parent comes later.
    _send(smtp_relay, quinn, _mail('Dora <dora@client.example>', [OWN], 'Re: Pilot', 'p2@client.example',
                                   in_reply_to='p1@ourco.example', references=['p1@ourco.example']))
    assert quinn.sync()['finished']

    offer = _thread_of(quinn, 'o1@customer.example')
    assert offer and offer == _thread_of(quinn, 'o2@ourco.example') == _thread_of(quinn, 'o3@customer.example')
    thread, = _threads(quinn, [('id', '=', offer)])
    assert (thread['name'], thread['message_count']) == ('Offer for 2027', 3)
    carl_contact = _partner(quinn, 'carl@customer.example')
    assert carl_contact['name'] == 'Carl Customer'
    assert thread['partner_ids'] == [carl_contact['id']]

    # Not synced at all: internal mail and the blocked sender alone; kept: blocked sender + Carl.
    reasons = dict(quinn.sql(
        'SELECT message_id, filtered_reason FROM email_sync_message WHERE mailbox_id = %s',
        quinn.mailbox_id))
    assert reasons['in1@ourco.example'] == 'internal'
    assert reasons['sp1@spam.example'] == 'blocked'
    assert reasons['sp2@spam.example'] is None
    assert not quinn.rpc('email.sync.message', 'search', [('message_id', 'in', ['in1@ourco.example',
                                                                                 'sp1@spam.example'])])
    assert _partner(quinn, 'pat@ourco.example') is None

    # Impersonal and deleted addresses never become contacts; their mail is kept.
    assert _thread_of(quinn, 'n1@shop.example') and _partner(quinn, 'no-reply@shop.example') is None
    assert _thread_of(quinn, 'z1@old.example') and _partner(quinn, 'zed@old.example') is None

    # Deals: the only open one is linked, two are suggested.
    erin_thread, = _threads(quinn, [('id', '=', _thread_of(quinn, 'e1@buyer.example'))])
    assert erin_thread['lead_id'][0] == deal
    fay_thread, = _threads(quinn, [('id', '=', _thread_of(quinn, 'f1@buyer.example'))])
    assert not fay_thread['lead_id'] and sorted(fay_thread['suggested_lead_ids']) == sorted(fay_deals)

    # The late parent: written later, found in its child's thread.
    pilot = _thread_of(quinn, 'p2@client.example')
    _sent(quinn, _mail(OWN, ['Dora <dora@client.example>'], 'Pilot', 'p1@ourco.example', hours_ago=5))
    assert quinn.sync()['finished']
    assert _thread_of(quinn, 'p1@ourco.example') == pilot
    assert _threads(quinn, [('id', '=', pilot)])[0]['name'] == 'Pilot'

    # A reply to the linked thread stays linked; syncing again changes nothing.
    _send(smtp_relay, quinn, _mail('Erin Buyer <erin@buyer.example>', [OWN], 'Re: Seats',
                                   'e2@buyer.example', in_reply_to='e1@buyer.example'))
    assert quinn.sync()['finished']
    count_before = len(_threads(quinn))
    assert quinn.sync()['finished']
    assert len(_threads(quinn)) == count_before
    erin_thread, = _threads(quinn, [('id', '=', _thread_of(quinn, 'e2@buyer.example'))])
    assert (erin_thread['lead_id'][0], erin_thread['message_count']) == (deal, 2)
    assert quinn.rpc('crm.lead', 'read', [deal], ['email_sync_thread_count'])[0]['email_sync_thread_count'] == 1
