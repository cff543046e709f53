"""Private and shared mail over the wire, as real logins: the owner, a
colleague who can read the linked deal, a colleague who cannot, a Settings
administrator and an email-sync manager, against conversations that are
private or shared at metadata, subject or full level. Every field of the
email and the conversation, the attachment download, searching, grouping,
exporting and naming are checked; XML-RPC and the web client's JSON-RPC."""
import email.utils
import smtplib
import xmlrpc.client
from email.message import EmailMessage

import pytest
import requests

from .sync_helpers import SyncedMailbox

LEVELS = ('private', 'metadata', 'subject', 'full')
PLACEHOLDER = '(Private content)'
PDF = b'%PDF-1.4 matrix attachment'

# The level from which a colleague sees each field of an email ('owner': never).
EMAIL_FIELD_LEVEL = {
    'subject': 'subject', 'display_name': 'subject',
    'body_html': 'full', 'body_text': 'full', 'attachment_ids': 'full', 'message_id': 'full',
    'in_reply_to': 'full', 'references': 'full', 'skipped_attachments': 'full', 'parse_error': 'full',
    'email_bcc': 'owner', 'headers': 'owner', 'content_hash': 'owner', 'content_key': 'owner',
    'folder_id': 'owner',
    'folder_link_ids': 'owner', 'folder_names': 'owner', 'filtered_reason': 'owner',
    'archived_by_user': 'owner', 'deleted_by_user': 'owner', 'thread_id': 'subject',
}
THREAD_FIELD_LEVEL = {
    'name': 'subject', 'display_name': 'subject', 'subject_key': 'subject',
    'conversation_html': 'full', 'hidden_reason': 'owner', 'suggested_lead_ids': 'owner',
}
# Fields whose value depends on who reads by design.
PER_READER = {'is_owner', 'content_hidden', '__last_update', 'message_is_follower',
              'message_unread', 'message_unread_counter', 'message_needaction',
              'message_needaction_counter', 'message_has_error', 'message_ids',
              'message_follower_ids', 'message_partner_ids', 'message_channel_ids',
              'website_message_ids'}
RANK = {'metadata': 0, 'subject': 1, 'full': 2, 'owner': 3}


def visible(field_level, level):
    return level != 'private' and RANK.get(field_level, 0) <= RANK[level]


class WebSession:
    """The web client's JSON-RPC, with a session cookie, as a browser speaks it."""

    def __init__(self, url, db, login, password):
        self.url, self.http = url, requests.Session()
        answer = self._json('/web/session/authenticate',
                            {'db': db, 'login': login, 'password': password})
        assert answer.get('uid'), answer

    def _json(self, path, params):
        reply = self.http.post(self.url + path, json={'jsonrpc': '2.0', 'method': 'call',
                                                      'params': params}, timeout=30).json()
        if 'error' in reply:
            raise PermissionError(reply['error']['data']['message'])
        return reply['result']

    def call(self, model, method, *args, **kwargs):
        return self._json('/web/dataset/call_kw', {'model': model, 'method': method,
                                                   'args': list(args), 'kwargs': kwargs})

    def get(self, path):
        return self.http.get(self.url + path, timeout=30)


def _send(relay, login, subject, message_id, body):
    msg = EmailMessage()
    msg['From'] = 'Mallory Client <mallory@client.example>'
    msg['To'] = '%s@localhost' % login
    msg['Subject'] = subject
    msg['Date'] = email.utils.formatdate()
    msg['Message-ID'] = '<%s>' % message_id
    msg.set_content(body)
    msg.add_attachment(PDF, maintype='application', subtype='pdf', filename='terms.pdf')
    with smtplib.SMTP(relay.host, relay.port, timeout=10) as smtp:
        smtp.send_message(msg)


def _user(admin_rpc, login, *groups):
    ids = [admin_rpc('ir.model.data', 'xmlid_to_res_id', xmlid) for xmlid in ('base.group_user',) + groups]
    admin_rpc('res.users', 'create', {'name': login.title(), 'login': login, 'password': login + '-pw',
                                      'groups_id': [(6, 0, ids)]})
    return admin_rpc.as_user(login, login + '-pw')


@pytest.fixture(scope='module')
def world(admin_rpc, odoo_server, dovecot, dovecot_fingerprint, smtp_relay):
    """Olga's mailbox with one conversation per level, each linked to Dave's deal."""
    company = admin_rpc('res.users', 'read', [admin_rpc.uid], ['company_id'])[0]['company_id'][0]
    # No contacts: a conversation is then reached through its deal only.
    admin_rpc('res.company', 'write', [company], {'email_sync_create_contacts': False})
    box = SyncedMailbox(admin_rpc, dovecot, dovecot_fingerprint, 'olga')
    salesman = 'sales_team.group_sale_salesman'
    admin_rpc('res.users', 'write', [box.user_id], {
        'groups_id': [(4, admin_rpc('ir.model.data', 'xmlid_to_res_id', salesman))]})
    people = {
        'owner': box.rpc,
        'colleague_with_deal': _user(admin_rpc, 'dave', salesman),
        'colleague_without': _user(admin_rpc, 'nina', salesman),
        'settings_admin': _user(admin_rpc, 'sam', 'base.group_system'),
        'sync_manager': _user(admin_rpc, 'mona', 'email_crm_sync.group_email_sync_manager'),
    }
    deal = admin_rpc('crm.lead', 'create', {'name': 'Matrix deal', 'type': 'opportunity',
                                            'user_id': people['colleague_with_deal'].uid})
    for level in LEVELS:
        _send(smtp_relay, 'olga', 'Level %s subject' % level, '%s@client.example' % level,
              'Level %s secret body' % level)
    assert box.sync()['finished']
    owner = box.rpc
    emails = {}
    for level in LEVELS:
        email_id, = owner('email.sync.message', 'search', [('message_id', '=', '%s@client.example' % level)])
        thread_id = owner('email.sync.message', 'read', [email_id], ['thread_id'])[0]['thread_id'][0]
        # Linked to Dave's deal, which Olga cannot read, as the rules would link it;
        # the per-thread override, as the owner does it from the conversation.
        admin_rpc('email.sync.thread', 'write', [thread_id], {'lead_id': deal})
        if level != 'private':
            owner('email.sync.thread', 'write', [thread_id],
                  {'visibility': 'shared', 'share_level': level})
        attachment_id, = owner('ir.attachment', 'search', [('res_model', '=', 'email.sync.message'),
                                                           ('res_id', '=', email_id)])
        emails[level] = {'email': email_id, 'thread': thread_id, 'attachment': attachment_id}
    try:
        yield {'box': box, 'people': people, 'emails': emails, 'deal': deal, 'server': odoo_server,
               'admin': admin_rpc}
        # Other tests' salespeople must not find these shared conversations in their Inbox.
        owner('email.sync.thread', 'write', owner('email.sync.thread', 'search', []),
              {'visibility': 'private'})
    finally:
        admin_rpc('res.company', 'write', [company], {'email_sync_create_contacts': True})


def _reaches(role, level):
    return role == 'owner' or (role == 'colleague_with_deal' and level != 'private')


def _fault(call, *args, **kwargs):
    with pytest.raises(xmlrpc.client.Fault) as caught:
        call(*args, **kwargs)
    assert caught.value.faultCode == 4, caught.value.faultString  # Odoo's code for AccessError


def _hidden(value):
    return value in (False, None, '', [], PLACEHOLDER) or 'Private content' in str(value)


ROLES = ('owner', 'colleague_with_deal', 'colleague_without', 'settings_admin', 'sync_manager')


@pytest.mark.parametrize('level', LEVELS)
@pytest.mark.parametrize('role', ROLES)
def test_every_field_of_every_path(world, role, level):
    rpc, owner = world['people'][role], world['people']['owner']
    ids = world['emails'][level]
    email_id, thread_id = ids['email'], ids['thread']
    word = 'Level %s' % level

    if not _reaches(role, level):
        assert rpc('email.sync.message', 'search', [('id', '=', email_id)]) == []
        assert rpc('email.sync.thread', 'search', [('id', '=', thread_id)],
                   context={'active_test': False}) == []
        _fault(rpc, 'email.sync.message', 'read', [email_id], ['date'])
        _fault(rpc, 'email.sync.thread', 'read', [thread_id], ['last_date'])
        _fault(rpc, 'email.sync.message', 'export_data', [email_id], ['subject'])
        _fault(rpc, 'ir.attachment', 'read', [ids['attachment']], ['datas'])
        assert rpc('email.sync.message', 'search_count', [('subject', 'ilike', word)]) == 0
        assert not any(g['subject'] == '%s subject' % word for g in rpc(
            'email.sync.message', 'read_group', [], ['subject'], ['subject']))
        return

    as_reader = 'owner' if role == 'owner' else level
    # Every field of the email and of its conversation.
    for model, record_id, levels in (('email.sync.message', email_id, EMAIL_FIELD_LEVEL),
                                     ('email.sync.thread', thread_id, THREAD_FIELD_LEVEL)):
        names = sorted(set(owner(model, 'fields_get', [], attributes=['type'])) - PER_READER)
        theirs = rpc(model, 'read', [record_id], names)[0]
        truth = owner(model, 'read', [record_id], names)[0]
        for name in names:
            shown = as_reader == 'owner' or visible(levels.get(name, 'metadata'), as_reader)
            if shown:
                assert theirs[name] == truth[name], (model, name)
            elif not _hidden(truth[name]):
                assert _hidden(theirs[name]), (model, name, theirs[name])
                assert 'secret' not in str(theirs[name]) and word not in str(theirs[name])

    subject_shown = as_reader == 'owner' or visible('subject', as_reader)
    body_shown = as_reader == 'owner' or visible('full', as_reader)
    # Searching hidden fields matches nothing.
    assert rpc('email.sync.message', 'search_count', [('subject', 'ilike', word)]) == int(subject_shown)
    assert rpc('email.sync.message', 'search_count', [('body_text', 'ilike', '%s secret' % word)]) \
        == int(body_shown)
    assert rpc('email.sync.thread', 'search_count', [('name', 'ilike', word)]) == int(subject_shown)
    assert bool(rpc('email.sync.message', 'name_search', word)) == subject_shown
    # Naming, grouping, exporting.
    name = rpc('email.sync.message', 'name_get', [email_id])[0][1]
    assert (name == '%s subject' % word) == subject_shown and (subject_shown or name == PLACEHOLDER)
    groups = [g['subject'] for g in rpc('email.sync.message', 'read_group',
                                        [('id', '=', email_id)], ['subject'], ['subject'])]
    assert groups == (['%s subject' % word] if subject_shown else [PLACEHOLDER])
    exported = rpc('email.sync.message', 'export_data', [email_id], ['subject', 'body_text'])['datas'][0]
    assert (word in exported[0]) == subject_shown and ('secret' in exported[1]) == body_shown
    # The attachment: listed, read and downloaded only with the full content.
    listed = rpc('ir.attachment', 'search', [('res_model', '=', 'email.sync.message')])
    assert (ids['attachment'] in listed) == body_shown
    if not body_shown:
        _fault(rpc, 'ir.attachment', 'read', [ids['attachment']], ['datas'])


@pytest.mark.parametrize('role', ROLES)
def test_attachment_download_through_the_web(world, role):
    person = world['people'][role]
    web = WebSession(world['server'].url, person.db, person.login, person.password)
    for level in LEVELS:
        attachment = world['emails'][level]['attachment']
        allowed = _reaches(role, level) and (role == 'owner' or level == 'full')
        for path in ('/web/content/%d?download=true' % attachment, '/web/image/%d' % attachment):
            answer = web.get(path)
            if allowed and path.startswith('/web/content'):
                assert answer.status_code == 200 and answer.content == PDF, (level, path)
            elif not allowed:
                assert answer.status_code != 200 or PDF not in answer.content, (role, level, path)


def test_the_web_clients_json_rpc_redacts_the_same(world):
    dave = world['people']['colleague_with_deal']
    web = WebSession(world['server'].url, dave.db, dave.login, dave.password)
    rows = web.call('email.sync.message', 'search_read', [], ['subject', 'body_html', 'email_from'])
    by_subject = {row['subject']: row for row in rows}
    assert 'Level subject subject' in by_subject and 'Level full subject' in by_subject
    assert 'Level metadata subject' not in by_subject and PLACEHOLDER in by_subject
    assert 'secret' not in by_subject[PLACEHOLDER]['body_html']
    assert 'Mallory' in by_subject[PLACEHOLDER]['email_from']
    assert 'Level private subject' not in by_subject
    threads = web.call('email.sync.thread', 'search_read', [], ['name', 'conversation_html'])
    assert sorted(t['name'] for t in threads) == sorted([PLACEHOLDER, 'Level subject subject',
                                                         'Level full subject'])
    assert sum('secret body' in t['conversation_html'] for t in threads) == 1


def test_a_new_default_applies_to_mail_synced_after_it(world, smtp_relay):
    box, owner = world['box'], world['people']['owner']
    dave = world['people']['colleague_with_deal']
    owner('email.sync.mailbox', 'write', [box.mailbox_id], {'sharing': 'shared', 'share_level': 'full'})
    _send(smtp_relay, 'olga', 'After the change', 'after@client.example', 'After secret body')
    assert box.sync()['finished']
    email_id, = owner('email.sync.message', 'search', [('message_id', '=', 'after@client.example')])
    thread_id = owner('email.sync.message', 'read', [email_id], ['thread_id'])[0]['thread_id'][0]
    world['admin']('email.sync.thread', 'write', [thread_id], {'lead_id': world['deal']})
    assert owner('email.sync.thread', 'read', [thread_id], ['visibility', 'share_level'])[0] \
        == {'id': thread_id, 'visibility': 'shared', 'share_level': 'full'}
    assert 'After secret body' in dave('email.sync.message', 'read', [email_id], ['body_text'])[0]['body_text']
    # Conversations synced before keep their own setting.
    private = world['emails']['private']
    assert dave('email.sync.message', 'search', [('id', '=', private['email'])]) == []
    assert owner('email.sync.thread', 'read', [private['thread']], ['visibility'])[0]['visibility'] == 'private'
    owner('email.sync.mailbox', 'write', [box.mailbox_id], {'sharing': 'private'})
