"""Review of the privacy fixes: further ways other users read or change private
mail, each tried as a real login (XML-RPC, the web client's JSON-RPC, HTTP),
asserting the fixed behaviour: the call is refused with an access error, or
its answer holds nothing the caller may not see, and the owner's data is left
as it was. The world is privacy_world's; the owner adds notes (with a file)
carrying markers of their own."""
import base64
import secrets
import xmlrpc.client

import pytest

from . import privacy_world as pw
from .privacy_world import flat

COLLEAGUES = ('own_docs', 'see_all', 'settings_admin', 'sync_manager')


@pytest.fixture(scope='module')
def world(admin_rpc, odoo_server, dovecot, dovecot_fingerprint, smtp_relay):
    built = pw.build_world(admin_rpc, odoo_server, dovecot, dovecot_fingerprint, smtp_relay, 'rv')
    owner = built['people']['owner']
    # Notes of the owner's, with a marker in the text and in a file, on a private
    # conversation and on one shared below full content (the colleagues reach it).
    notes = {}
    for level in ('private', 'metadata'):
        token = 'xrvnote%s%s' % (level[:3], secrets.token_hex(5))
        name, content = 'xrvfile%s%s' % (level[:3], secrets.token_hex(5)), \
            'xrvtext%s%s' % (level[:3], secrets.token_hex(5))
        message = owner('email.sync.thread', 'message_post', [built['convs'][level]['thread']],
                        body='Negotiation notes %s' % token, subject='Note %s' % token,
                        message_type='comment', subtype='mail.mt_note',
                        attachments=[['%s.txt' % name, content]])
        notes[level] = {'message': message, 'markers': {token: ('note', level), name: ('note file name', level),
                                                        content: ('note file text', level)}}
    built['notes'] = notes
    try:
        yield built
    finally:
        try:
            pw.teardown_world(built)
        finally:
            # A conversation moved by a colleague (see below) is theirs: made private too.
            admin = built['admin']
            admin('email.sync.thread', 'write', admin('email.sync.thread', 'search', [],
                                                      context={'active_test': False}),
                  {'visibility': 'private'})


def refused(call, *args, **kwargs):
    """True when the call is refused as an access error (never a traceback)."""
    try:
        call(*args, **kwargs)
    except xmlrpc.client.Fault as fault:
        assert pw.is_refusal(fault), 'not an access error: %s' % fault.faultString[-600:]
        return True
    return False


def note_markers(world):
    found = {}
    for note in world['notes'].values():
        found.update(note['markers'])
    return found


# --- notes on conversations: grouping mail.message --------------------------------------------
@pytest.mark.parametrize('role', COLLEAGUES + ('portal',))
def test_review_notes_on_conversations_are_not_grouped_for_others(world, role):
    """mail.message.read_group reads its groups straight from SQL: neither the access
    check of mail.message.read/_search nor check_mail_message_access applies."""
    rpc = world['people'][role]
    domain = [('model', '=', 'email.sync.thread')]
    answers = []
    for groupby in ('body', 'subject'):
        try:
            answers.append(rpc('mail.message', 'read_group', domain, [groupby], [groupby]))
        except xmlrpc.client.Fault as fault:
            assert pw.is_refusal(fault), fault.faultString[-600:]
    assert world['markers'].found_in(flat(answers), note_markers(world)) == []


@pytest.mark.parametrize('role', ['own_docs', 'see_all'])
def test_review_note_counts_tell_no_hidden_text(world, role):
    rpc = world['people'][role]

    def count(text):
        groups = rpc('mail.message', 'read_group', [('model', '=', 'email.sync.thread'),
                                                      ('body', 'ilike', text)],
                     ['create_uid'], ['create_uid'], lazy=False)
        return sum(g['__count'] for g in groups)

    differing = [(marker, where) for marker, where in note_markers(world).items()
                 if where[0] == 'note' and count(marker) != count(world['markers'].fakes[0])]
    assert differing == []


# --- files of notes on conversations ----------------------------------------------------------
@pytest.mark.parametrize('role', ['own_docs', 'see_all'])
def test_review_files_of_notes_are_for_full_content_readers(world, role):
    """A file posted with a note on a conversation is stored on the conversation
    (res_model email.sync.thread): ir.attachment.check then asks only whether the
    conversation is readable, at any level."""
    rpc, admin = world['people'][role], world['admin']
    note_files = admin('ir.attachment', 'search', [('res_model', '=', 'email.sync.thread')])
    assert note_files, 'no file was posted with a note: the test proves nothing'
    answers = []
    try:
        answers.append(rpc('ir.attachment', 'search_read', [('res_model', '=', 'email.sync.thread')],
                           ['name', 'datas_fname', 'datas']))
    except xmlrpc.client.Fault as fault:
        assert pw.is_refusal(fault), fault.faultString[-600:]
    for rows in answers:
        for row in rows:
            row['datas'] = base64.b64decode(row.get('datas') or b'').decode('utf-8', 'replace')
    web = rpc.web()
    for attachment in note_files:
        reply = web.get('/web/content/%d?download=true' % attachment)
        if reply.status_code == 200:
            answers.append(reply.content.decode('utf-8', 'replace'))
            answers.append(reply.headers.get('Content-Disposition', ''))
    hidden = {m: w for m, w in note_markers(world).items() if w[0] != 'note'}
    assert world['markers'].found_in(flat(answers), hidden) == []


# --- activities on the owner's conversations --------------------------------------------------
def _owner_activity(world, level='private'):
    admin, owner = world['admin'], world['people']['owner']
    model_id = admin('ir.model', 'search', [('model', '=', 'email.sync.thread')])[0]
    todo = admin('ir.model.data', 'xmlid_to_res_id', 'mail.mail_activity_data_todo')
    return owner('mail.activity', 'create', {
        'res_model_id': model_id, 'res_id': world['convs'][level]['thread'], 'activity_type_id': todo,
        'summary': 'Review call %s' % secrets.token_hex(3), 'user_id': owner.uid})


@pytest.mark.parametrize('role', ['own_docs', 'see_all', 'settings_admin'])
def test_review_colleagues_neither_change_nor_remove_the_owners_activities(world, role):
    """The rule on activities of mail is for reading only: writing, marking done and
    deleting someone's activity on a private conversation are not checked."""
    rpc, admin = world['people'][role], world['admin']
    activity = _owner_activity(world)
    before = admin('mail.activity', 'read', [activity], ['summary', 'note', 'user_id'])
    outcomes = {
        'write': refused(rpc, 'mail.activity', 'write', [activity], {'summary': 'changed by %s' % role}),
        'action_feedback': refused(rpc, 'mail.activity', 'action_feedback', [activity], feedback='done'),
        'unlink': refused(rpc, 'mail.activity', 'unlink', [activity]),
    }
    after = admin('mail.activity', 'read', [activity], ['summary', 'note', 'user_id'])
    assert (outcomes, after) == ({'write': True, 'action_feedback': True, 'unlink': True}, before)


@pytest.mark.parametrize('role', ['own_docs', 'see_all'])
def test_review_colleagues_add_no_activity_to_a_private_conversation(world, role):
    rpc, admin = world['people'][role], world['admin']
    thread = world['convs']['private']['thread']
    model_id = admin('ir.model', 'search', [('model', '=', 'email.sync.thread')])[0]
    todo = admin('ir.model.data', 'xmlid_to_res_id', 'mail.mail_activity_data_todo')
    before = admin('mail.activity', 'search', [('res_model', '=', 'email.sync.thread'), ('res_id', '=', thread)])
    made = refused(rpc, 'mail.activity', 'create', {
        'res_model_id': model_id, 'res_id': thread, 'activity_type_id': todo,
        'summary': 'Planted by %s' % role, 'user_id': world['people']['owner'].uid})
    after = admin('mail.activity', 'search', [('res_model', '=', 'email.sync.thread'), ('res_id', '=', thread)])
    assert (made, sorted(after)) == (True, sorted(before))


# --- the owner's link to a deal names deals they may not read --------------------------------
def test_review_linking_a_conversation_names_no_unreadable_deal(world):
    """The owner (a salesperson seeing their own deals) links a conversation to another
    salesperson's deal by id: the log note names it as the superuser reads it."""
    owner, admin = world['people']['owner'], world['admin']
    secret = 'xrvdeal%s' % secrets.token_hex(5)
    deal = admin('crm.lead', 'create', {'name': 'Takeover %s' % secret, 'type': 'opportunity',
                                        'user_id': world['people']['see_all'].uid})
    assert owner('crm.lead', 'search', [('id', '=', deal)]) == [], 'the owner reads the deal'
    thread = world['convs']['private']['thread']
    answers = []
    try:
        owner('email.sync.thread', 'write', [thread], {'lead_id': deal})
        answers.append(owner('email.sync.thread', 'read', [thread], ['lead_id']))
        notes = owner('mail.message', 'search', [('model', '=', 'email.sync.thread'), ('res_id', '=', thread)])
        answers.append(owner('mail.message', 'message_format', notes))
    except xmlrpc.client.Fault as fault:
        assert pw.is_refusal(fault), fault.faultString[-600:]
    finally:
        admin('email.sync.thread', 'write', [thread], {'lead_id': world['deal']})
    assert secret not in flat(answers)


# --- code as the superuser that no log records ----------------------------------------------
def test_review_code_in_a_custom_field_is_refused_or_recorded(world):
    """A Settings administrator's custom computed field runs Python as the
    superuser (``self.env[...].sudo()`` is allowed in safe_eval) like a server
    action with code, but the security log does not record it."""
    sam, admin, markers = world['people']['settings_admin'], world['admin'], world['markers']
    name = 'x_rv_%s' % secrets.token_hex(3)
    model_id = admin('ir.model', 'search', [('model', '=', 'res.partner')])[0]
    code = ("for record in self:\n"
            "    record['%s'] = ' '.join(record.env['email.sync.message'].sudo().search([])"
            ".mapped(lambda m: m.subject or ''))\n" % name)
    log_before = admin('email.sync.audit.log', 'search', [])
    field = None
    try:
        try:
            field = sam('ir.model.fields', 'create', {
                'name': name, 'model_id': model_id, 'field_description': 'Review', 'ttype': 'text',
                'store': False, 'compute': code, 'depends': ''})
        except xmlrpc.client.Fault as fault:
            assert pw.is_refusal(fault), fault.faultString[-600:]
            return
        partner = sam('res.partner', 'search', [], limit=1)
        shown = sam('res.partner', 'read', partner, [name])
        private_subject = markers['subject', 'private']
        logged = admin('email.sync.audit.log', 'search_read', [('id', 'not in', log_before)],
                       ['description', 'res_model'])
        assert private_subject not in flat(shown) or any(name in (e['description'] or '') for e in logged), \
            'custom code read private mail and the security log has no entry for it'
    finally:
        if field:
            admin('ir.model.fields', 'unlink', [field])


# --- mail.thread helpers on conversations one does not reach ----------------------------------
@pytest.mark.parametrize('role', ['own_docs', 'settings_admin', 'portal'])
def test_review_suggested_recipients_of_an_unreachable_conversation(world, role):
    """message_get_suggested_recipients reads the conversation as the superuser,
    telling whether a private conversation exists and whose it is."""
    rpc = world['people'][role]
    thread = world['convs']['private']['thread']
    # JSON-RPC, as the chatter calls it (the answer is keyed by id: no XML-RPC struct).
    try:
        answer = rpc.web().call('email.sync.thread', 'message_get_suggested_recipients', [thread])
    except pw.RpcError as error:
        assert error.name.endswith(('AccessError', 'MissingError')) and not error.debug, error
        return
    assert not any(answer.values()), answer


# --- folders of one's own mailbox moved into someone else's ----------------------------------
def test_review_a_folder_is_not_moved_into_someone_elses_mailbox(world):
    """Record rules are checked on the folder as it was, not on the mailbox it is moved to."""
    dave, admin = world['people']['own_docs'], world['admin']
    theirs = world['box'].mailbox_id
    folder = dave('email.sync.folder', 'search', [('mailbox_id', '=', world['colleague_box'].mailbox_id)],
                  limit=1)
    before = admin('email.sync.folder', 'search', [('mailbox_id', '=', theirs)])
    moved = refused(dave, 'email.sync.folder', 'write', folder, {'mailbox_id': theirs, 'name': 'Planted'})
    after = admin('email.sync.folder', 'search', [('mailbox_id', '=', theirs)])
    if not moved:
        admin('email.sync.folder', 'write', folder, {'mailbox_id': world['colleague_box'].mailbox_id})
    assert (moved, sorted(after)) == (True, sorted(before))


# --- what an email-sync manager reads of other people's mailboxes -------------------------------
def test_review_a_sync_manager_reads_no_folder_names_of_others(world):
    """Folders are the owner's at every level (README); the managers' read rule on
    folders shows every mailbox's folder names and how many emails each holds."""
    box, owner, mona = world['box'], world['people']['owner'], world['people']['sync_manager']
    secret = 'xrvfolder%s' % secrets.token_hex(5)
    with box.imap() as client:
        client.create_folder('Deals/%s' % secret)
    owner('email.sync.mailbox', 'action_test_connection', [box.mailbox_id])
    assert secret in flat(owner('email.sync.folder', 'search_read', [], ['name'])), 'folder not listed'
    answers = []
    for call in (lambda: mona('email.sync.folder', 'search_read', [('user_id', '=', owner.uid)],
                              ['name', 'link_count']),
                 lambda: mona('email.sync.mailbox', 'read', [box.mailbox_id], ['folder_ids']),
                 lambda: mona('email.sync.folder', 'name_search', secret)):
        try:
            answers.append(call())
        except xmlrpc.client.Fault as fault:
            assert pw.is_refusal(fault), fault.faultString[-600:]
    folder_ids = (answers[1][0]['folder_ids'] if len(answers) > 1 and answers[1] else [])
    if folder_ids:
        answers.append(mona('email.sync.folder', 'read', folder_ids, ['name']))
    assert secret not in flat(answers)


# --- becoming the owner: a Settings administrator sets the owner's password --------------------
def test_review_resetting_the_owners_password_is_recorded(world):
    """A Settings administrator who sets the owner's password logs in as the owner and
    reads all of their mail; the security log records group changes, not this."""
    sam, admin, owner = world['people']['settings_admin'], world['admin'], world['people']['owner']
    log_before = admin('email.sync.audit.log', 'search', [])
    if refused(sam, 'res.users', 'write', [owner.uid], {'password': 'taken-over'}):
        return
    try:
        as_owner = pw.Rpc(owner.url, owner.db, owner.login, 'taken-over')
        read = as_owner('email.sync.message', 'search_read',
                        [('id', '=', world['convs']['private']['email'])], ['subject'])
        assert world['markers']['subject', 'private'] in flat(read)
        logged = admin('email.sync.audit.log', 'search_read', [('id', 'not in', log_before)],
                       ['description', 'res_model', 'res_id'])
        assert any(e['res_model'] == 'res.users' and e['res_id'] == owner.uid for e in logged), \
            'the owner\'s password was set by someone else and the security log has no entry'
    finally:
        admin('res.users', 'write', [owner.uid], {'password': owner.password})


# --- a colleague's own conversation moved into the owner's mailbox catches their mail ----------
def test_review_an_own_conversation_cannot_be_moved_to_catch_someone_elses_mail(world):
    """The owner of a conversation writes its "readonly" mailbox, subject key and
    participants (only ownership is checked): the sync then files the other
    mailbox's new mail on that subject into the writer's conversation, shared at
    "full" and linked to the writer's deal, where the writer reads it."""
    from email.message import EmailMessage

    from email_crm_sync.lib import subject_key

    dave, admin, box = world['people']['own_docs'], world['admin'], world['box']
    theirs = world['colleague_box']
    token = secrets.token_hex(4)
    subject = 'Quarterly figures %s' % token
    secret = 'xrvcaught%s' % secrets.token_hex(5)

    def mail(to, body, subject):
        msg = EmailMessage()
        msg['From'] = 'Mallory Client <mallory@client.example>'
        msg['To'] = to
        msg['Subject'] = subject
        msg['Message-ID'] = '<%s@client.example>' % secrets.token_hex(8)
        msg.set_content(body)
        return msg.as_bytes()

    # Dave's own conversation, from his own mailbox.
    with theirs.imap() as client:
        client.append('INBOX', mail('%s@localhost' % theirs.login, 'Hello Dave', 'Dave %s' % token))
    assert theirs.sync()['finished']
    own_thread, = dave('email.sync.thread', 'search', [('name', '=', 'Dave %s' % token)])
    owner_address = '%s@localhost' % world['owner_login']
    moved = refused(dave, 'email.sync.thread', 'write', [own_thread], {
        'mailbox_id': box.mailbox_id, 'subject_key': subject_key.subject_key(subject),
        'participants': 'mallory@client.example\n%s' % owner_address,
        'last_date': '2099-01-01 00:00:00', 'visibility': 'shared', 'share_level': 'full',
        'lead_id': world['deal']})
    # The owner's next email on that subject.
    with box.imap() as client:
        client.append('INBOX', mail(owner_address, 'The figures are %s' % secret, 'Re: %s' % subject))
    assert box.sync()['finished']
    email, = admin('email.sync.message', 'search_read', [('subject', '=', 'Re: %s' % subject)],
                   ['thread_id', 'user_id'])
    thread_owner = admin('email.sync.thread', 'read', [email['thread_id'][0]], ['user_id'])[0]['user_id'][0]
    shown = dave('email.sync.message', 'search_read', [('id', '=', email['id'])], ['body_text', 'subject'])
    assert (moved, thread_owner, secret in flat(shown)) == (True, world['people']['owner'].uid, False)


# --- template code past the editor check ---------------------------------------------------------
@pytest.mark.parametrize('role,newline', [('own_docs', '\r'), ('own_docs', '\u2028'), ('portal', '\r')])
def test_review_template_code_on_a_line_of_its_own_is_for_editors_only(world, role, newline):
    """Odoo's template syntax has "%" line statements; Jinja splits lines on CR and
    on Unicode line breaks too (str.splitlines), while the check looks for "%" only
    after a line feed. A statement runs as the caller with the sandbox's sudo()."""
    dave = world['people'][role]
    partner = dave('res.users', 'read', [dave.uid], ['partner_id'])[0]['partner_id'][0]
    code = newline.join([
        'Hello',
        "% if object.env['res.partner'].sudo().browse(" + str(partner) + ").write({'comment': ' '.join("
        "object.env['email.sync.message'].sudo().search([]).mapped('subject'))})",
        '% endif',
        ''])
    web = dave.web()
    try:
        web.call('mail.template', 'render_template', code, 'res.partner', [partner])
    except pw.RpcError as error:
        assert error.name.endswith('AccessError') and not error.debug, error
    comment = world['admin']('res.partner', 'read', [partner], ['comment'])[0]['comment'] or ''
    world['admin']('res.partner', 'write', [partner], {'comment': False})
    assert world['markers']['subject', 'private'] not in comment.lower()


# --- the security log itself ----------------------------------------------------------------------
def test_review_an_administrator_cannot_erase_the_security_log(world):
    """The log is read-only by access rights only: a Settings administrator grants
    their group write and delete on it (that grant is logged) and then deletes
    every entry, the one recording the grant included."""
    sam, admin = world['people']['settings_admin'], world['admin']
    model_id = admin('ir.model', 'search', [('model', '=', 'email.sync.audit.log')])[0]
    system = admin('ir.model.data', 'xmlid_to_res_id', 'base.group_system')
    admin('res.groups', 'write', [system], {'comment': 'review %s' % secrets.token_hex(3)})  # one entry at least
    entries = admin('email.sync.audit.log', 'search', [])
    assert entries, 'nothing in the log: the test proves nothing'
    access = None
    try:
        try:
            access = sam('ir.model.access', 'create', {
                'name': 'review', 'model_id': model_id, 'group_id': system, 'perm_read': True,
                'perm_write': True, 'perm_create': True, 'perm_unlink': True})
            rewritten = not refused(sam, 'email.sync.audit.log', 'write', sam('email.sync.audit.log', 'search', []),
                                    {'description': 'nothing happened'})
            erased = not refused(sam, 'email.sync.audit.log', 'unlink', sam('email.sync.audit.log', 'search', []))
        except xmlrpc.client.Fault as fault:
            assert pw.is_refusal(fault), fault.faultString[-600:]
            erased = rewritten = False
        left = admin('email.sync.audit.log', 'search_read', [('id', 'in', entries)], ['description'])
        assert (erased, rewritten, len(left)) == (False, False, len(entries))
    finally:
        if access:
            admin('ir.model.access', 'unlink', [access])


# --- legitimate use: a salesperson's mass mail from a stored template ------------------------------
def test_review_mass_mail_from_a_stored_template_still_works_for_salespeople(world):
    """In mass-mail mode Odoo 11 copies the template's text (code included) into the
    wizard and renders the wizard's text, not the stored template: the editor check
    refuses every salesperson's mass mail that uses a template."""
    dave, admin = world['people']['own_docs'], world['admin']
    model_id = admin('ir.model', 'search', [('model', '=', 'crm.lead')])[0]
    template = admin('mail.template', 'create', {
        'name': 'Review mass mail', 'model_id': model_id, 'subject': 'News for ${object.name}',
        'body_html': '<p>Dear ${object.contact_name or "customer"},</p>', 'email_from': 'rv@localhost'})
    context = {'active_model': 'crm.lead', 'active_ids': [world['deal']], 'active_id': world['deal']}
    values = dave('mail.compose.message', 'onchange_template_id', [], template, 'mass_mail', 'crm.lead',
                  world['deal'], context=context)['value']
    values = {key: value for key, value in values.items()
              if key in ('subject', 'body', 'email_from', 'reply_to', 'attachment_ids')}
    values.update(composition_mode='mass_mail', model='crm.lead', template_id=template)
    wizard = dave('mail.compose.message', 'create', values, context=context)
    try:
        dave('mail.compose.message', 'send_mail', [wizard], context=context)
    except xmlrpc.client.Fault as fault:
        pytest.fail('mass mail with a stored template refused: %s' % fault.faultString[-300:])
    finally:
        admin('mail.template', 'unlink', [template])


# --- legitimate use: the owner sorts and totals their own mail ------------------------------------
def test_review_the_owner_sorts_their_own_conversations_by_subject(world):
    """Sorting by a hidden field is dropped for every user but the superuser, the
    owner included (list views sorted by subject come back in date order)."""
    owner = world['people']['owner']
    ids = owner('email.sync.thread', 'search', [('user_id', '=', owner.uid)])
    rows = owner('email.sync.thread', 'search_read', [('id', 'in', ids)], ['name'], order='name desc')
    names = [(row['name'] or '').lower() for row in rows]
    assert len(set(names)) > 2, 'too few conversations to tell an order'
    assert names == sorted(names, reverse=True)


def test_review_the_owner_totals_their_own_opens(world):
    """Sums of hidden figures are dropped for every reader, the owner included."""
    owner = world['people']['owner']
    groups = owner('email.sync.message', 'read_group', [('user_id', '=', owner.uid)],
                   ['direction', 'open_count', 'click_count'], ['direction'])
    assert groups and all('open_count' in g and 'click_count' in g for g in groups), groups
