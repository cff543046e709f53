"""A world for the adversarial privacy tests: one salesperson's synced mailbox
holding one conversation per sharing level, every email planted with unique
markers (random tokens) in each place that holds content, one email sent
from the CRM composer with a Bcc recipient and tracking, a chatter note and
an activity on every conversation, and the people who try to read it, as
real logins (XML-RPC, the web client's JSON-RPC, plain HTTP).

Markers are lower-case tokens, one per (kind, conversation): finding one in
any answer tells exactly what leaked from where.
"""
import email.utils
import json
import re
import secrets
import time
import xmlrpc.client
from email.message import EmailMessage

import requests

from .sync_helpers import SyncedMailbox, received

LEVELS = ('private', 'metadata', 'subject', 'full')
# The email sent from the CRM composer, shared at "full" once sent.
SENT = 'sent'
CONVERSATIONS = LEVELS + (SENT,)

# Where a marker is planted in each synced email.
KINDS = ('subject', 'body', 'bcc', 'header', 'msgid', 'refs', 'attname', 'attbody')
# What a colleague who reaches a conversation may see of it, per level.
# Bcc and raw headers stay the owner's at every level.
VISIBLE_KINDS = {
    'private': frozenset(),
    'metadata': frozenset(),
    'subject': frozenset({'subject'}),
    'full': frozenset({'subject', 'body', 'msgid', 'refs', 'attname', 'attbody'}),
    SENT: frozenset({'subject', 'body', 'url'}),
}
SENT_KINDS = ('subject', 'body', 'bcc', 'url')
CODES = {'subject': 'sub', 'body': 'bod', 'bcc': 'bcc', 'header': 'hdr', 'msgid': 'mid',
         'refs': 'ref', 'attname': 'atn', 'attbody': 'atb', 'url': 'url'}

# Roles trying to read the owner's mail (the owner is role 'owner').
EMPLOYEE_ROLES = ('own_docs', 'see_all', 'settings_admin', 'sync_manager')
OUTSIDER_ROLES = ('portal', 'anonymous')
# Employees reaching the shared conversations (they are linked to own_docs' deal).
REACHING = ('own_docs', 'see_all')
# The composed email's conversation is linked to its recipients' contacts too, which
# every employee may read: every employee reaches it.
REACH = {SENT: EMPLOYEE_ROLES}


def reaches(role, conversation):
    """Whether ``role`` may see ``conversation`` at all (at its level)."""
    return role == 'owner' or (conversation != 'private'
                               and role in REACH.get(conversation, REACHING))


FAULT_ACCESS = 4  # Odoo's XML-RPC fault code for AccessError
REFUSALS = (2, 3, 4)  # UserError/MissingError, AccessDenied, AccessError: a message, no traceback
REQUESTS = {'count': 0}


def count(n=1):
    REQUESTS['count'] += n


class Rpc:
    """XML-RPC as an external client speaks it, counting requests."""

    def __init__(self, url, db, login, password):
        self.url, self.db, self.login, self.password = url, db, login, password
        common = xmlrpc.client.ServerProxy('%s/xmlrpc/2/common' % url, allow_none=True)
        count()
        self.uid = common.authenticate(db, login, password, {})
        if not self.uid:
            raise PermissionError('login %s refused' % login)
        self._object = xmlrpc.client.ServerProxy('%s/xmlrpc/2/object' % url, allow_none=True)

    def __call__(self, model, method, *args, **kwargs):
        count()
        return self._object.execute_kw(self.db, self.uid, self.password, model, method,
                                       list(args), kwargs)

    def web(self):
        return WebSession(self.url, self.db, self.login, self.password)


class RpcError(Exception):
    """A JSON-RPC error answer: ``message``, ``name`` (the exception's class) and ``debug``."""

    def __init__(self, error):
        data = error.get('data') or {}
        self.message, self.name, self.debug = data.get('message', ''), data.get('name', ''), \
            data.get('debug', '')
        super(RpcError, self).__init__('%s: %s' % (self.name, self.message))


class WebSession:
    """The web client's JSON-RPC with a session cookie; anonymous when no login."""

    def __init__(self, url, db, login=None, password=None):
        self.url, self.http = url, requests.Session()
        if login:
            answer = self.json('/web/session/authenticate',
                               {'db': db, 'login': login, 'password': password})
            assert answer.get('uid'), answer

    def json(self, path, params):
        count()
        reply = self.http.post(self.url + path, json={'jsonrpc': '2.0', 'method': 'call',
                                                      'params': params}, timeout=60).json()
        if 'error' in reply:
            raise RpcError(reply['error'])
        return reply['result']

    def call(self, model, method, *args, **kwargs):
        return self.json('/web/dataset/call_kw', {'model': model, 'method': method,
                                                  'args': list(args), 'kwargs': kwargs})

    def get(self, path, **kwargs):
        count()
        return self.http.get(self.url + path, timeout=60, **kwargs)

    def post(self, path, **kwargs):
        count()
        return self.http.post(self.url + path, timeout=60, **kwargs)


def flat(value):
    """Any answer as one lower-case string, to look for markers in."""
    return json.dumps(value, default=str).lower()


def is_refusal(error):
    return isinstance(error, xmlrpc.client.Fault) and error.faultCode in REFUSALS \
        and 'Traceback' not in error.faultString


class Markers:
    """Unique tokens per (kind, conversation), and the fakes that match nothing."""

    def __init__(self, prefix):
        self.by_key = {}
        for conversation in CONVERSATIONS:
            for kind in KINDS + ('url',):
                self.by_key[kind, conversation] = 'x%s%s%s' % (prefix, CODES[kind], secrets.token_hex(5))
        self.fakes = ['x%sfak%s' % (prefix, secrets.token_hex(5)) for _ in range(8)]

    def __getitem__(self, key):
        return self.by_key[key]

    def hidden_from(self, role, conversation=None):
        """{marker: (kind, conversation)} that ``role`` may not see."""
        found = {}
        for (kind, conv), marker in self.by_key.items():
            if conversation and conv != conversation:
                continue
            if role == 'owner':
                continue
            allowed = VISIBLE_KINDS[conv] if reaches(role, conv) else frozenset()
            if kind not in allowed:
                found[marker] = (kind, conv)
        return found

    def found_in(self, text, markers):
        """The (kind, conversation) of every marker of ``markers`` in ``text``."""
        text = text.lower()
        return sorted({markers[m] for m in markers if m in text})


def _mime(owner_login, markers, level):
    m = lambda kind: markers[kind, level]  # noqa: E731
    msg = EmailMessage()
    msg['From'] = 'Mallory Client <mallory@client.example>'
    msg['To'] = '%s@localhost' % owner_login
    msg['Bcc'] = 'Bea Hidden <%s@client.example>' % m('bcc')
    msg['Subject'] = 'Offer %s' % m('subject')
    msg['Date'] = email.utils.formatdate()
    msg['Message-ID'] = '<%s@client.example>' % m('msgid')
    msg['References'] = '<%s@client.example>' % m('refs')
    msg['X-Planted'] = m('header')
    msg.set_content('Dear team,\nthe secret terms are %s.\n' % m('body'))
    msg.add_attachment(('Attached terms %s\n' % m('attbody')).encode(), maintype='text',
                       subtype='plain', filename='%s.txt' % m('attname'))
    return msg.as_bytes()


def _user(admin, server, login, groups, employee=True):
    ids = [admin('ir.model.data', 'xmlid_to_res_id', x)
           for x in (('base.group_user',) if employee else ()) + tuple(groups)]
    admin('res.users', 'create', {'name': login.title(), 'login': login, 'password': login + '-pw',
                                  'email': '%s@localhost' % login, 'groups_id': [(6, 0, ids)]})
    return Rpc(server.url, server.db_name, login, login + '-pw')


def build_world(admin_rpc, odoo_server, dovecot, fingerprint, smtp_relay, prefix,
                create_contacts=False):
    """The world, as a dict. ``prefix`` keeps logins apart between modules."""
    admin = admin_rpc
    admin('ir.config_parameter', 'set_param', 'web.base.url', odoo_server.url)
    company = admin('res.users', 'read', [admin.uid], ['company_id'])[0]['company_id'][0]
    admin('res.company', 'write', [company], {'email_sync_create_contacts': create_contacts})
    markers = Markers(prefix)
    owner_login = prefix + 'owner'
    box = SyncedMailbox(admin, dovecot, fingerprint, owner_login)
    salesman = admin('ir.model.data', 'xmlid_to_res_id', 'sales_team.group_sale_salesman')
    admin('res.users', 'write', [box.user_id], {'groups_id': [(4, salesman)]})
    owner = Rpc(odoo_server.url, odoo_server.db_name, owner_login, owner_login + '-pw')
    owner('email.sync.mailbox', 'write', [box.mailbox_id], {
        'smtp_host': smtp_relay.host, 'smtp_port': smtp_relay.port, 'smtp_security': 'starttls'})
    owner('email.sync.mailbox', 'action_test_connection', [box.mailbox_id])
    # The salesperson owning the deal has a mailbox too: they write from the CRM.
    colleague_box = SyncedMailbox(admin, dovecot, fingerprint, prefix + 'dave')
    admin('res.users', 'write', [colleague_box.user_id], {'groups_id': [(4, salesman)]})
    own_docs = Rpc(odoo_server.url, odoo_server.db_name, prefix + 'dave', prefix + 'dave-pw')
    own_docs('email.sync.mailbox', 'write', [colleague_box.mailbox_id], {
        'smtp_host': smtp_relay.host, 'smtp_port': smtp_relay.port, 'smtp_security': 'starttls'})
    own_docs('email.sync.mailbox', 'action_test_connection', [colleague_box.mailbox_id])
    people = {
        'owner': owner,
        'own_docs': own_docs,
        'see_all': _user(admin, odoo_server, prefix + 'alma', ['sales_team.group_sale_salesman_all_leads']),
        'settings_admin': _user(admin, odoo_server, prefix + 'sam', ['base.group_system']),
        'sync_manager': _user(admin, odoo_server, prefix + 'mona',
                              ['email_crm_sync.group_email_sync_manager']),
        'portal': _user(admin, odoo_server, prefix + 'pete', ['base.group_portal'], employee=False),
    }
    deal = admin('crm.lead', 'create', {'name': 'Privacy deal', 'type': 'opportunity',
                                        'user_id': people['own_docs'].uid})

    # One email per level, appended as the owner's mail client would have it (Bcc kept).
    with box.imap() as client:
        for level in LEVELS:
            client.append('INBOX', _mime(owner_login, markers, level))
    assert box.sync()['finished']
    convs = {}
    for level in LEVELS:
        email_id, = owner('email.sync.message', 'search',
                          [('message_id', '=', '%s@client.example' % markers['msgid', level])])
        thread_id = owner('email.sync.message', 'read', [email_id], ['thread_id'])[0]['thread_id'][0]
        # Linked to a deal its owner cannot read (another salesperson's): as the rules
        # would link it; the owner chooses the sharing.
        admin('email.sync.thread', 'write', [thread_id], {'lead_id': deal})
        if level != 'private':
            owner('email.sync.thread', 'write', [thread_id],
                  {'visibility': 'shared', 'share_level': level})
        attachments = owner('ir.attachment', 'search', [('res_model', '=', 'email.sync.message'),
                                                        ('res_id', '=', email_id)])
        convs[level] = {'email': email_id, 'thread': thread_id, 'attachments': attachments}

    # The composer: to a customer, Bcc to a hidden address, tracking on, one tracked link.
    customer_login, bcc_login = prefix + 'cust', markers['bcc', SENT]
    for login in (customer_login, bcc_login):
        dovecot.add_user(login, login + '-pw')
    customer = owner('res.partner', 'create', {'name': 'Cora Customer',
                                               'email': '%s@localhost' % customer_login})
    # As the web client's tag field does for an address typed in Bcc.
    bcc_partner = owner('res.partner', 'name_create', '%s@localhost' % bcc_login)[0]
    subject = 'Proposal %s' % markers['subject', SENT]
    url = 'https://shop.example/%s' % markers['url', SENT]
    defaults = owner('email.sync.composer', 'default_get', ['mailbox_id', 'body'])
    composer = owner('email.sync.composer', 'create', {
        'mailbox_id': box.mailbox_id, 'to_partner_ids': [(6, 0, [customer])],
        'bcc_partner_ids': [(6, 0, [bcc_partner])], 'subject': subject,
        'body': '<p>Terms %s, see <a href="%s">prices</a>.</p>' % (markers['body', SENT], url)
                + defaults.get('body', ''),
        'track_opens': True, 'track_clicks': True})
    sent_thread = owner('email.sync.composer', 'action_send', [composer])['res_id']
    sent_at = time.monotonic()
    owner('email.sync.thread', 'write', [sent_thread], {'visibility': 'shared', 'share_level': 'full'})
    admin('email.sync.thread', 'write', [sent_thread], {'lead_id': deal})
    sent_email, = owner('email.sync.message', 'search', [('thread_id', '=', sent_thread)])
    delivered = received(dovecot, customer_login, customer_login + '-pw', subject)
    html = delivered.get_body(('html',)).get_content()
    link = re.search(r'href="([^"]*/ecs/t/c/[^"]+)"', html).group(1)
    pixel = re.search(r'src="([^"]*/ecs/t/o/[^"]+\.gif)"', html).group(1)
    convs[SENT] = {'email': sent_email, 'thread': sent_thread, 'attachments': [],
                   'link': link, 'pixel': pixel, 'url': url, 'bcc_partner': bcc_partner,
                   'customer': customer}

    # The owner's own note and activity on every conversation.
    model_id = admin('ir.model', 'search', [('model', '=', 'email.sync.thread')])[0]
    todo = admin('ir.model.data', 'xmlid_to_res_id', 'mail.mail_activity_data_todo')
    for conv in convs.values():
        conv['note'] = owner('email.sync.thread', 'message_post', [conv['thread']],
                             body='Call them back', message_type='comment', subtype='mail.mt_note')
        owner('email.sync.thread', 'message_subscribe_users', [conv['thread']], [owner.uid])
        conv['activity'] = owner('mail.activity', 'create', {
            'res_model_id': model_id, 'res_id': conv['thread'], 'activity_type_id': todo,
            'summary': 'Follow up', 'user_id': owner.uid})
    return {'box': box, 'colleague_box': colleague_box, 'people': people, 'markers': markers, 'convs': convs, 'deal': deal,
            'server': odoo_server, 'admin': admin, 'company': company, 'prefix': prefix,
            'owner_login': owner_login, 'sent_at': sent_at}


def wait_past_machine_window(world):
    """Opens and clicks within seconds of sending are a scanner's: a person's
    come later."""
    time.sleep(max(0.0, 11 - (time.monotonic() - world['sent_at'])))


def teardown_world(world):
    """Other tests must not meet these shared conversations, nor the contact setting."""
    owner, admin = world['people']['owner'], world['admin']
    try:
        owner('email.sync.thread', 'write', owner('email.sync.thread', 'search', []),
              {'visibility': 'private'})
    finally:
        admin('res.company', 'write', [world['company']], {'email_sync_create_contacts': True})


def wait_for(predicate, timeout=10.0, step=0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
