"""Issue 10, row by row: each way other users read or damaged private mail,
tried as real logins over XML-RPC, JSON-RPC and HTTP, asserting the fixed
behaviour: the call is refused with an access error (never a traceback), or
it answers with nothing the caller may not see, and the owner's mail is left
as it was. The world (privacy_world) holds one conversation per sharing
level, every email carrying unique markers; the people are the owner, a
salesperson owning the linked deal ("own documents"), a "see all leads"
salesperson, a Settings administrator (not the superuser), an "Email sync:
manager", a portal user and anonymous visitors."""
import base64
import json
import re
import secrets
import xmlrpc.client

import pytest
import requests

from . import privacy_world as pw
from .privacy_world import LEVELS, SENT, flat

HIDDEN_FIELDS = {
    # email field: the marker kind it holds
    'email.sync.message': {'subject': 'subject', 'body_text': 'body', 'body_html': 'body',
                           'message_id': 'msgid', 'references': 'refs', 'email_bcc': 'bcc',
                           'headers': 'header', 'participants': 'bcc'},
    'email.sync.thread': {'name': 'subject', 'subject_key': 'subject', 'participants': 'bcc',
                          'correspondents': 'bcc'},
}


@pytest.fixture(scope='module')
def world(admin_rpc, odoo_server, dovecot, dovecot_fingerprint, smtp_relay):
    built = pw.build_world(admin_rpc, odoo_server, dovecot, dovecot_fingerprint, smtp_relay, 'pr')
    try:
        yield built
    finally:
        pw.teardown_world(built)


class Outcome:
    """What a call did: ``refused`` (an access error, as a user should get it) or ``value``."""

    def __init__(self, call, *args, **kwargs):
        self.refused, self.value, self.error = False, None, None
        try:
            self.value = call(*args, **kwargs)
        except xmlrpc.client.Fault as fault:
            self.error = fault.faultString
            # Codes 2-4: Odoo's UserError/MissingError, AccessDenied, AccessError, each a plain
            # message; code 1 is any other error, sent with its traceback.
            assert fault.faultCode in pw.REFUSALS and 'Traceback' not in fault.faultString, \
                'not an access error but: %s' % fault.faultString[-600:]
            self.refused = True
        except pw.RpcError as error:
            self.error = error.message
            assert error.name.endswith(('AccessError', 'UserError', 'MissingError',
                                        'AccessDenied')), 'not an access error: %s' % error
            self.refused = True


def people(world, *roles):
    return [(role, world['people'][role]) for role in roles]


def hidden_markers(world, role):
    return world['markers'].hidden_from(role)


def leaks(world, role, value):
    """The (kind, conversation) of every marker ``role`` may not see found in ``value``."""
    return world['markers'].found_in(flat(value), hidden_markers(world, role))


def group_count(rpc, model, domain):
    groups = rpc(model, 'read_group', domain, ['create_uid'], ['create_uid'], lazy=False)
    return sum(g['__count'] for g in groups)


# --- 1/2: read_group -----------------------------------------------------------------------
@pytest.mark.parametrize('role', ['own_docs', 'see_all', 'settings_admin', 'sync_manager'])
def test_row_01_read_group_domains_are_no_oracle(world, role):
    rpc, markers = world['people'][role], world['markers']
    differing = []
    for model, fields in sorted(HIDDEN_FIELDS.items()):
        for field, kind in sorted(fields.items()):
            for level in LEVELS:
                if kind in pw.VISIBLE_KINDS[level] and pw.reaches(role, level):
                    continue
                true = group_count(rpc, model, [(field, 'ilike', markers[kind, level])])
                false = group_count(rpc, model, [(field, 'ilike', markers.fakes[0])])
                if true != false:
                    differing.append((model, field, level, true, false))
    assert differing == []


@pytest.mark.parametrize('role', ['own_docs', 'see_all'])
def test_row_02_thread_groups_carry_no_hidden_subject(world, role):
    rpc = world['people'][role]
    labels = []
    for model, groupby in (('email.sync.message', 'thread_id'), ('email.sync.tracking.event', 'message_id')):
        labels += rpc(model, 'read_group', [], [groupby], [groupby])
    assert leaks(world, role, labels) == []


# --- 3: Bcc ------------------------------------------------------------------------------------
@pytest.mark.parametrize('role', ['own_docs', 'see_all'])
def test_row_03_bcc_never_reaches_colleagues(world, role):
    rpc, convs, markers = world['people'][role], world['convs'], world['markers']
    seen, linked = [], []
    for level in ('metadata', 'subject', 'full', SENT):
        conv = convs[level]
        seen.append(Outcome(rpc, 'email.sync.message', 'read', [conv['email']],
                            ['participants', 'email_to', 'email_cc', 'email_bcc', 'email_from']).value)
        thread = Outcome(rpc, 'email.sync.thread', 'read', [conv['thread']],
                         ['participants', 'correspondents', 'partner_ids']).value or [{}]
        seen.append(thread)
        partners = thread[0].get('partner_ids') or []
        seen.append(Outcome(rpc, 'res.partner', 'read', partners, ['name', 'email']).value)
        if conv.get('bcc_partner') in partners:
            linked.append(level)
    shown = world['markers'].found_in(flat(seen), {markers['bcc', c]: ('bcc', c) for c in pw.CONVERSATIONS})
    # (Bcc addresses shown, conversations whose Bcc contact is linked)
    assert (shown, linked) == ([], [])


def test_row_03_no_contact_is_made_for_a_bcc_address(world, admin_rpc):
    """Neither the sync (with contact creation on) nor the composer creates one."""
    box, markers, owner = world['box'], world['markers'], world['people']['owner']
    bcc = 'x%sbcc%s' % (world['prefix'], secrets.token_hex(5))
    admin_rpc('res.company', 'write', [world['company']], {'email_sync_create_contacts': True})
    try:
        from email.message import EmailMessage
        msg = EmailMessage()
        msg['From'] = 'Vera Vendor <vera@vendor.example>'
        msg['To'] = '%s@localhost' % world['owner_login']
        msg['Bcc'] = 'Hidden Person <%s@client.example>' % bcc
        msg['Subject'] = 'Contacts from Bcc'
        msg['Message-ID'] = '<%s@vendor.example>' % secrets.token_hex(6)
        msg.set_content('Hello')
        with box.imap() as client:
            client.append('INBOX', msg.as_bytes())
        assert box.sync()['finished']
    finally:
        admin_rpc('res.company', 'write', [world['company']], {'email_sync_create_contacts': False})
    everyone = {'active_test': False}
    assert admin_rpc('res.partner', 'search', [('email', 'ilike', 'vera@vendor.example')],
                     context=everyone), 'the sync made no contact at all: the test proves nothing'
    made = admin_rpc('res.partner', 'search_read', [('email', 'ilike', bcc)], ['name', 'email'],
                     context=everyone)
    assert made == [], 'a contact was created for a Bcc-only address'
    # The composer: only the contact the owner picked for Bcc exists, and it is not linked.
    sent_bcc = markers['bcc', SENT]
    partners = admin_rpc('res.partner', 'search', [('email', 'ilike', sent_bcc)], context=everyone)
    assert partners == [world['convs'][SENT]['bcc_partner']]
    thread = owner('email.sync.thread', 'read', [world['convs'][SENT]['thread']], ['partner_ids'])[0]
    assert world['convs'][SENT]['bcc_partner'] not in thread['partner_ids']


# --- 4: attachments through read_group ---------------------------------------------------------
@pytest.mark.parametrize('role', ['own_docs', 'settings_admin', 'portal'])
def test_row_04_attachment_read_group_shows_no_hidden_mail(world, role):
    rpc, markers = world['people'][role], world['markers']
    on_email = [('res_model', '=', 'email.sync.message')]
    answers = []
    for groupby in ('name', 'res_name', 'datas_fname', 'mimetype'):
        outcome = Outcome(rpc, 'ir.attachment', 'read_group', on_email, [groupby], [groupby])
        answers.append(outcome.value)
    assert leaks(world, role, answers) == []
    differing = []
    for level in LEVELS:
        for field, kind in (('name', 'attname'), ('datas_fname', 'attname'), ('res_name', 'subject'),
                            ('index_content', 'attbody')):
            if kind in pw.VISIBLE_KINDS[level] and pw.reaches(role, level):
                continue
            true = Outcome(group_count, rpc, 'ir.attachment', on_email + [(field, 'ilike', markers[kind, level])])
            false = Outcome(group_count, rpc, 'ir.attachment', on_email + [(field, 'ilike', markers.fakes[0])])
            if (true.refused, true.value) != (false.refused, false.value):
                differing.append((field, level, true.value, false.value))
    assert differing == []


# --- 5/6: names Odoo takes as superuser ------------------------------------------------------
def _subject_markers(world):
    return {world['markers']['subject', c]: ('subject', c) for c in pw.CONVERSATIONS}


@pytest.mark.parametrize('role', ['owner', 'own_docs', 'see_all', 'settings_admin'])
def test_row_05_chatter_record_names_are_neutral(world, role):
    rpc = world['people'][role]
    threads = [c['thread'] for c in world['convs'].values()]
    on_threads = [('model', '=', 'email.sync.thread'), ('res_id', 'in', threads)]
    answers = [Outcome(rpc, 'mail.message', 'search_read', on_threads, ['record_name', 'subject']).value,
               Outcome(rpc, 'mail.message', 'read_group', on_threads, ['record_name'], ['record_name']).value]
    notes = [c['note'] for c in world['convs'].values()]
    answers.append(Outcome(rpc, 'mail.message', 'message_format', notes).value)
    assert world['markers'].found_in(flat(answers), _subject_markers(world)) == []


@pytest.mark.parametrize('role', ['owner', 'own_docs', 'see_all', 'settings_admin'])
def test_row_06_activity_names_are_neutral(world, role):
    rpc = world['people'][role]
    domain = [('res_model', '=', 'email.sync.thread')]
    answers = [Outcome(rpc, 'mail.activity', 'search_read', domain, ['res_name', 'summary']).value,
               Outcome(rpc, 'mail.activity', 'read_group', domain, ['res_name'], ['res_name']).value]
    assert world['markers'].found_in(flat(answers), _subject_markers(world)) == []


# --- 7/8/9: the composer with other people's mail -------------------------------------------
@pytest.mark.parametrize('level', ['private', 'metadata'])
def test_row_07_composer_names_no_foreign_parent(world, level):
    dave, conv = world['people']['own_docs'], world['convs'][level]
    created = Outcome(dave, 'email.sync.composer', 'create', {
        'mailbox_id': world['colleague_box'].mailbox_id, 'parent_id': conv['email'],
        'thread_id': conv['thread'], 'subject': 'Hello', 'body': '<p>Hi</p>'})
    if created.refused:
        return
    shown = Outcome(dave, 'email.sync.composer', 'read', [created.value],
                    ['parent_id', 'thread_id', 'subject', 'body', 'attachment_ids'])
    assert leaks(world, 'own_docs', shown.value) == []


def _dave_partner(world):
    dave = world['people']['own_docs']
    return dave('res.partner', 'name_create', '%s@localhost' % (world['prefix'] + 'dave'))[0]


def test_row_08_a_reply_carries_no_hidden_message_id(world, dovecot):
    dave, conv, markers = world['people']['own_docs'], world['convs']['metadata'], world['markers']
    subject = 'Re: row eight %s' % secrets.token_hex(3)
    sent = Outcome(_send_as_dave, world, {'parent_id': conv['email'], 'mode': 'reply',
                                          'subject': subject, 'body': '<p>Thanks</p>'})
    if sent.refused:
        return
    stored = dave('email.sync.message', 'search_read', [('subject', '=', subject)],
                  ['message_id', 'in_reply_to', 'references', 'headers'])
    raw = pw.received(dovecot, world['prefix'] + 'dave', world['colleague_box'].password, subject)
    hidden = {markers['msgid', 'metadata']: 'Message-ID', markers['refs', 'metadata']: 'References'}
    assert world['markers'].found_in(flat(stored) + raw.as_string().lower(), hidden) == []


def _send_as_dave(world, values):
    dave = world['people']['own_docs']
    values = dict({'mailbox_id': world['colleague_box'].mailbox_id,
                   'to_partner_ids': [(6, 0, [_dave_partner(world)])]}, **values)
    composer = dave('email.sync.composer', 'create', values)
    return dave('email.sync.composer', 'action_send', [composer])


def test_row_09_composer_sends_no_foreign_attachment(world, dovecot):
    conv, markers = world['convs']['private'], world['markers']
    subject = 'Row nine %s' % secrets.token_hex(3)
    sent = Outcome(_send_as_dave, world, {'attachment_ids': [(6, 0, conv['attachments'])],
                                          'subject': subject, 'body': '<p>Files</p>'})
    if sent.refused:
        return
    raw = pw.received(dovecot, world['prefix'] + 'dave', world['colleague_box'].password, subject)
    text = raw.as_string().lower()
    for part in raw.iter_attachments():
        text += ' ' + (part.get_filename() or '').lower() + ' ' + part.get_content().__str__().lower()
    hidden = {markers['attname', 'private']: 'name', markers['attbody', 'private']: 'content'}
    assert world['markers'].found_in(text, hidden) == []


# --- 10: the other side of a relation ---------------------------------------------------------
def test_row_10_linking_a_conversation_from_a_contact(world, admin_rpc):
    """A salesperson who reaches no conversation of the owner's writes
    ``email_sync_thread_ids`` on contacts: refused or without effect."""
    admin = admin_rpc
    nina = pw._user(admin, world['server'], world['prefix'] + 'nina', ['sales_team.group_sale_salesman'])
    owner, convs = world['people']['owner'], world['convs']
    own_contact = nina('res.partner', 'create', {'name': 'Nina Contact', 'email': 'nc@client.example'})
    customer, sent_thread = convs[SENT]['customer'], convs[SENT]['thread']
    before = owner('email.sync.thread', 'read', [sent_thread], ['partner_ids'])[0]['partner_ids']
    full = convs['full']
    # Shared at full, linked to a deal she cannot read: the rules deny it to her.
    assert nina('email.sync.thread', 'search', [('id', '=', full['thread'])]) == []
    try:
        outcomes = [
            Outcome(nina, 'res.partner', 'write', [own_contact], {'email_sync_thread_ids': [(4, full['thread'])]}),
            Outcome(nina, 'res.partner', 'write', [own_contact],
                    {'email_sync_thread_ids': [(6, 0, [convs['private']['thread'], full['thread']])]}),
            Outcome(nina, 'res.partner', 'write', [customer], {'email_sync_thread_ids': [(3, sent_thread)]}),
        ]
        read = Outcome(nina, 'email.sync.message', 'read', [full['email']], ['body_text', 'subject'])
        assert read.refused, 'the conversation is readable now: %s' % read.value
        assert nina('email.sync.thread', 'search', [('id', '=', full['thread'])]) == []
        after = owner('email.sync.thread', 'read', [sent_thread], ['partner_ids'])[0]['partner_ids']
        assert sorted(after) == sorted(before), "the owner's contact was unlinked"
        linked = admin('email.sync.thread', 'search', [('partner_ids', 'in', [own_contact])])
        assert linked == [], 'conversations tied to a contact the owner did not choose'
        del outcomes  # refused or not: what counts is that nothing changed
    finally:
        admin('res.partner', 'write', [own_contact], {'email_sync_thread_ids': [(5,)]})
        admin('email.sync.thread', 'write', [sent_thread], {'partner_ids': [(6, 0, before)]})


# --- 11: templates ---------------------------------------------------------------------------
SUDO_TEMPLATE = "${object.env['email.sync.message'].sudo().search([]).mapped('body_text')}"


@pytest.mark.parametrize('role', ['own_docs', 'portal'])
def test_row_11_rendering_template_code_is_refused(world, role):
    rpc = world['people'][role]
    partner = rpc('res.users', 'read', [rpc.uid], ['partner_id'])[0]['partner_id'][0]
    # JSON-RPC, as the web client calls it (XML-RPC cannot carry the answer's integer keys).
    web = rpc.web()
    rendered = Outcome(web.call, 'mail.template', 'render_template', SUDO_TEMPLATE, 'res.partner', [partner])
    assert rendered.refused, 'rendered: %s' % str(rendered.value)[:300]
    assert leaks(world, role, rendered.value) == []


def test_row_11_employees_cannot_write_templates(world, admin_rpc):
    dave = world['people']['own_docs']
    partner = dave('res.users', 'read', [dave.uid], ['partner_id'])[0]['partner_id'][0]
    model = admin_rpc('ir.model', 'search', [('model', '=', 'res.partner')])[0]
    created = Outcome(dave, 'mail.template', 'create', {
        'name': 'Innocent', 'model_id': model, 'subject': 'Hi', 'body_html': SUDO_TEMPLATE})
    leaked = []
    if not created.refused:
        generated = Outcome(dave, 'mail.template', 'generate_email', [created.value], partner,
                            fields=['body_html'])
        leaked = leaks(world, 'own_docs', generated.value)
        admin_rpc('mail.template', 'unlink', [created.value])
    existing = admin_rpc('mail.template', 'create', {
        'name': 'Greeting', 'model_id': model, 'subject': 'Hi', 'body_html': '<p>Hello ${object.name}</p>'})
    try:
        written = Outcome(dave, 'mail.template', 'write', [existing], {'body_html': SUDO_TEMPLATE})
        assert created.refused and written.refused and leaked == []
    finally:
        admin_rpc('mail.template', 'unlink', [existing])


def test_row_11_existing_templates_still_render_for_employees(world, admin_rpc):
    dave = world['people']['own_docs']
    partner = dave('res.users', 'read', [dave.uid], ['partner_id'])[0]['partner_id'][0]
    model = admin_rpc('ir.model', 'search', [('model', '=', 'res.partner')])[0]
    template = admin_rpc('mail.template', 'create', {
        'name': 'Greeting', 'model_id': model, 'subject': 'Hi', 'body_html': '<p>Hello ${object.name}</p>'})
    try:
        email = dave('mail.template', 'generate_email', [template], partner, fields=['body_html'])
        assert 'Hello Prdave' in email['body_html']
    finally:
        admin_rpc('mail.template', 'unlink', [template])


# --- 12: what a Settings administrator does is recorded ----------------------------------------
def test_row_12_security_changes_are_audited(world, admin_rpc):
    sam, mona = world['people']['settings_admin'], world['people']['sync_manager']
    log = 'email.sync.audit.log'
    before = Outcome(sam, log, 'search_count', [])
    model = admin_rpc('ir.model', 'search', [('model', '=', 'res.partner')])[0]
    action = sam('ir.actions.server', 'create', {
        'name': 'Read it all', 'model_id': model, 'state': 'code',
        'code': "log(str(env['email.sync.message'].sudo().search([]).mapped('body_text')))"})
    rule = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'email_crm_sync.email_sync_message_rule_own')
    name = admin_rpc('ir.rule', 'read', [rule], ['name'])[0]['name']
    access = admin_rpc('ir.model.access', 'search', [('name', '=', 'email.sync.message user')])
    group = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'email_crm_sync.group_email_sync_manager')
    try:
        sam('ir.rule', 'write', [rule], {'name': name + ' (changed)'})
        sam('ir.model.access', 'write', access, {'name': 'email.sync.message user (changed)'})
        sam('res.groups', 'write', [group], {'users': [(4, sam.uid)]})
    finally:
        admin_rpc('ir.rule', 'write', [rule], {'name': name})
        admin_rpc('ir.model.access', 'write', access, {'name': 'email.sync.message user'})
        admin_rpc('res.groups', 'write', [group], {'users': [(3, sam.uid)]})
        admin_rpc('ir.actions.server', 'unlink', [action])
    assert not before.refused, before.error
    entries = sam(log, 'search_read', [], ['create_date', 'user_id', 'description'])
    mine = [e for e in entries if e['user_id'] and e['user_id'][0] == sam.uid]
    assert len(mine) >= 4, entries  # the server action, the rule, the access right, the group
    assert mona(log, 'search_count', []) == len(entries)
    for rpc in (sam, mona):
        assert Outcome(rpc, log, 'write', [mine[0]['id']], {'description': 'nothing'}).refused
        assert Outcome(rpc, log, 'unlink', [mine[0]['id']]).refused
        assert Outcome(rpc, log, 'create', {'description': 'forged'}).refused


# --- 13/14: files left behind by the composer ------------------------------------------------
def test_row_13_composer_uploads_stay_the_owners(world):
    owner, dave = world['people']['owner'], world['people']['own_docs']
    secret = 'x%supl%s' % (world['prefix'], secrets.token_hex(5))
    upload = owner('ir.attachment', 'create', {
        'name': '%s.txt' % secret, 'datas_fname': '%s.txt' % secret, 'res_model': 'email.sync.composer',
        'res_id': 0, 'datas': base64.b64encode(('Terms %s' % secret).encode()).decode()})
    owner('email.sync.composer', 'action_send', [owner('email.sync.composer', 'create', {
        'mailbox_id': world['box'].mailbox_id, 'to_partner_ids': [(6, 0, [world['convs'][SENT]['customer']])],
        'subject': 'Row thirteen', 'body': '<p>See file</p>', 'attachment_ids': [(6, 0, [upload])]})])
    read = Outcome(dave, 'ir.attachment', 'read', [upload], ['name', 'datas', 'index_content'])
    web = world['people']['own_docs'].web()
    answer = web.get('/web/content/%d?download=true' % upload)
    assert read.refused or secret not in flat(read.value)
    assert not (answer.status_code == 200 and secret.encode() in answer.content)
    listed = dave('ir.attachment', 'search', [('name', 'ilike', secret)])
    assert listed == []


def test_row_14_forward_leaves_no_readable_copy(world, admin_rpc):
    owner, dave, markers = world['people']['owner'], world['people']['own_docs'], world['markers']
    conv = world['convs']['private']
    name = markers['attname', 'private']
    before = set(admin_rpc('ir.attachment', 'search', [('name', 'ilike', name)]))
    context = {'active_model': 'email.sync.thread', 'active_id': conv['thread'], 'default_mode': 'forward'}
    defaults = owner('email.sync.composer', 'default_get', ['mailbox_id', 'attachment_ids', 'subject',
                                                            'body', 'mode', 'parent_id'], context=context)
    owner('email.sync.composer', 'create', dict(defaults, mailbox_id=world['box'].mailbox_id),
          context=context)
    copies = sorted(set(admin_rpc('ir.attachment', 'search', [('name', 'ilike', name)])) - before)
    assert dave('ir.attachment', 'search', [('name', 'ilike', name)]) == []
    web = dave.web()
    for copy in copies:
        read = Outcome(dave, 'ir.attachment', 'read', [copy], ['name', 'datas'])
        assert read.refused or leaks(world, 'own_docs', read.value) == [], copy
        answer = web.get('/web/content/%d?download=true' % copy)
        assert not (answer.status_code == 200 and markers['attbody', 'private'].encode() in answer.content)


# --- 15/16: actions and credentials ----------------------------------------------------------
def _fresh_email(world, tag):
    """A conversation of the owner's shared at full, for tests that may destroy it."""
    from email.message import EmailMessage
    box, owner = world['box'], world['people']['owner']
    msg = EmailMessage()
    msg['From'] = 'Mallory Client <mallory@client.example>'
    msg['To'] = '%s@localhost' % world['owner_login']
    msg['Subject'] = 'Sacrificial %s' % tag
    msg['Message-ID'] = '<%s-%s@client.example>' % (tag, secrets.token_hex(4))
    msg.set_content('Body %s' % tag)
    msg.add_attachment(b'keep me', maintype='text', subtype='plain', filename='%s.txt' % tag)
    with box.imap() as client:
        client.append('INBOX', msg.as_bytes())
    assert box.sync()['finished']
    email_id, = owner('email.sync.message', 'search', [('message_id', '=', msg['Message-ID'].strip('<>'))])
    return email_id


def test_row_15_portal_users_run_no_action_on_mail(world):
    owner, portal = world['people']['owner'], world['people']['portal']
    email_id = _fresh_email(world, 'rowfifteen')
    calls = [('email.sync.message', 'action_archive_email', [email_id]),
             ('email.sync.message', 'action_restore_email', [email_id]),
             ('email.sync.message', 'action_delete_email', [email_id]),
             ('email.sync.mailbox', 'action_sync_now', [world['box'].mailbox_id])]
    ran = [(model, method) for model, method, ids in calls
           if not Outcome(portal, model, method, ids).refused]
    state = owner('email.sync.message', 'read', [email_id], ['active', 'body_text', 'attachment_ids'])[0]
    assert ran == [] and state['active'] and 'rowfifteen' in state['body_text'] \
        and state['attachment_ids'], (ran, state)


def test_row_16_a_sync_manager_cannot_change_a_mailbox_password(world):
    mona, owner, box = world['people']['sync_manager'], world['people']['owner'], world['box']
    written = Outcome(mona, 'email.sync.mailbox', 'write', [box.mailbox_id], {'password': 'taken-over'})
    try:
        owner('email.sync.mailbox', 'action_test_connection', [box.mailbox_id])
        state = owner('email.sync.mailbox', 'read', [box.mailbox_id], ['state'])[0]['state']
    finally:
        owner('email.sync.mailbox', 'write', [box.mailbox_id], {'password': box.password})
        owner('email.sync.mailbox', 'action_test_connection', [box.mailbox_id])
    assert written.refused and state == 'ok', (written.refused, state)


# --- 17/18: the chatter -----------------------------------------------------------------------
def test_row_17_posting_hidden_attachments_shows_nothing(world):
    dave, convs = world['people']['own_docs'], world['convs']
    hidden = convs['private']['attachments'] + convs['metadata']['attachments']
    posted = Outcome(dave, 'email.sync.thread', 'message_post', [convs['metadata']['thread']],
                     body='See these', message_type='comment', subtype='mail.mt_comment',
                     attachment_ids=hidden)
    if posted.refused:
        return
    shown = dave('mail.message', 'message_format', [posted.value])
    assert leaks(world, 'own_docs', shown) == []
    owner = world['people']['owner']
    still = owner('ir.attachment', 'read', hidden, ['res_model', 'res_id'])
    assert all(a['res_model'] == 'email.sync.message' for a in still)


@pytest.mark.parametrize('role', ['portal', 'settings_admin'])
def test_row_18_followers_of_unreadable_conversations_are_not_listed(world, role):
    rpc, convs = world['people'][role], world['convs']
    threads = [c['thread'] for c in convs.values()]
    listed = Outcome(rpc, 'mail.followers', 'search_read',
                     [('res_model', '=', 'email.sync.thread'), ('res_id', 'in', threads)],
                     ['res_id', 'partner_id'])
    assert listed.refused or listed.value == []
    grouped = Outcome(rpc, 'mail.followers', 'read_group', [('res_model', '=', 'email.sync.thread')],
                      ['partner_id'], ['partner_id'])
    assert grouped.refused or grouped.value == []


# --- Also seen ---------------------------------------------------------------------------------
BROWSER_UA = ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
              'Chrome/126.0 Safari/537.36')


def test_also_replayed_clicks_count_once(world, admin_rpc):
    owner, conv = world['people']['owner'], world['convs'][SENT]
    pw.wait_past_machine_window(world)
    for _ in range(4):
        answer = requests.get(conv['link'], headers={'User-Agent': BROWSER_UA}, allow_redirects=False)
        assert answer.status_code == 302 and answer.headers['Location'] == conv['url']
    cron = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'email_crm_sync.email_sync_tracking_event_cron_process')
    admin_rpc('ir.cron', 'method_direct_trigger', [cron])
    clicks = owner('email.sync.tracking.event', 'search_count',
                   [('message_id', '=', conv['email']), ('kind', '=', 'click')])
    told = owner('mail.message', 'search_count', [('needaction', '=', True), ('body', 'ilike', 'clicked')])
    feed = owner('mail.message', 'search_count', [('model', '=', 'email.sync.thread'),
                                                  ('res_id', '=', conv['thread']), ('body', 'ilike', 'clicked')])
    # Told once in the sender's inbox; nothing in the conversation's feed, which
    # colleagues may read (opens and clicks are the sender's).
    assert (clicks, told, feed) == (1, 1, 0)


@pytest.mark.parametrize('level', ['full', 'metadata'])
@pytest.mark.parametrize('role', ['own_docs', 'see_all'])
def test_also_tracking_figures_are_the_senders(world, admin_rpc, role, level):
    rpc, conv = world['people'][role], world['convs'][SENT]
    owner = world['people']['owner']
    owner('email.sync.thread', 'write', [conv['thread']], {'share_level': level})
    try:
        _check_tracking_figures(world, admin_rpc, rpc, conv)
    finally:
        owner('email.sync.thread', 'write', [conv['thread']], {'share_level': 'full'})


def _check_tracking_figures(world, admin_rpc, rpc, conv):
    # An open and a click, processed.
    pw.wait_past_machine_window(world)
    requests.get(conv['pixel'], headers={'User-Agent': BROWSER_UA})
    requests.get(conv['link'], headers={'User-Agent': BROWSER_UA}, allow_redirects=False)
    cron = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'email_crm_sync.email_sync_tracking_event_cron_process')
    admin_rpc('ir.cron', 'method_direct_trigger', [cron])
    owner = world['people']['owner']
    figures = ['open_count', 'click_count', 'first_open_date', 'last_open_date', 'last_click_date',
               'tracking_event_ids']
    truth = owner('email.sync.message', 'read', [conv['email']], figures)[0]
    assert truth['click_count'], 'no click recorded: the test proves nothing'
    theirs = (Outcome(rpc, 'email.sync.message', 'read', [conv['email']], figures).value or [{}])[0]
    shown = {name: theirs[name] for name in figures if theirs.get(name)}
    thread = (Outcome(rpc, 'email.sync.thread', 'read', [conv['thread']],
                      ['opened', 'conversation_html']).value or [{}])[0]
    html = thread.get('conversation_html') or ''
    assert shown == {} and not thread.get('opened')
    assert 'click(s)' not in html and 'fa-eye' not in html and conv['url'] not in html.split('prices')[-1]
    assert Outcome(rpc, 'email.sync.tracking.event', 'search', []).value in (None, [])
    counted = Outcome(group_count, rpc, 'email.sync.message', [('click_count', '>', 0)])
    assert counted.refused or counted.value == 0


def _no_traceback(answer):
    assert 'Traceback' not in answer.text and 'site-packages' not in answer.text \
        and '/odoo/' not in answer.text, (answer.url, answer.status_code, answer.text[:300])


def test_also_export_of_an_unreadable_id_shows_no_traceback(world):
    web = world['people']['own_docs'].web()
    token = re.search(r'csrf_token\s*:\s*"([^"]+)"', web.get('/web').text).group(1)
    data = {'model': 'email.sync.message', 'fields': [{'name': 'subject', 'label': 'Subject'}],
            'ids': [world['convs']['private']['email']], 'domain': [], 'import_compat': False}
    export = web.post('/web/export/csv', data={'data': json.dumps(data), 'token': 'x', 'csrf_token': token})
    assert world['markers']['subject', 'private'] not in export.text
    _no_traceback(export)


@pytest.mark.parametrize('path', ['/ecs/t/c/%00', '/ecs/t/o/%00.gif', '/ecs/t/c/5.0.a%00b',
                                  '/ecs/t/o/5.0.a%00b.gif'])
def test_also_a_nul_byte_in_a_tracking_path_is_no_server_error(world, path):
    answer = requests.get(world['server'].url + path, allow_redirects=False, timeout=30)
    pw.count()
    assert answer.status_code != 500
    _no_traceback(answer)


def test_also_json_rpc_errors_carry_no_traceback(world):
    web = world['people']['own_docs'].web()
    with pytest.raises(pw.RpcError) as caught:
        web.call('email.sync.message', 'read', [world['convs']['private']['email']], ['subject'])
    assert 'Traceback' not in caught.value.debug and 'site-packages' not in caught.value.debug


def test_also_block_lists_are_personal(world):
    owner = world['people']['owner']
    secret = 'x%sblk%s.example' % (world['prefix'], secrets.token_hex(4))
    owner('res.users', 'write', [owner.uid], {'email_sync_blocked': secret})
    try:
        for role in ('own_docs', 'settings_admin', 'sync_manager'):
            rpc = world['people'][role]
            for call in ((rpc, 'res.users', 'read', [owner.uid], ['email_sync_blocked']),
                         (rpc, 'res.users', 'search_read', [('id', '=', owner.uid)], ['email_sync_blocked']),
                         (rpc, 'res.users', 'search', [('email_sync_blocked', 'ilike', secret)])):
                outcome = Outcome(*call)
                assert outcome.refused or (secret not in flat(outcome.value) and outcome.value != [owner.uid]), \
                    (role, call[2], outcome.value)
    finally:
        owner('res.users', 'write', [owner.uid], {'email_sync_blocked': False})
