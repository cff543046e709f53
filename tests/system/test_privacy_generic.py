"""Private mail stays private, whatever the field or the path: a generic,
field-agnostic adversarial suite. It knows no field of the addon: it
discovers the addon's models (ir.model), their fields (fields_get) and their
public actions (``def action_*`` in the addon's source), calls every public
ORM method as every role, flattens every answer to text and looks for the
markers planted in the owner's mail (privacy_world). A marker the role may
not see at that conversation's level must never come back; a count must
never differ between a true and a false guess of hidden text; no call of
another user may change the owner's data; portal users and anonymous
visitors get nothing at all from the addon's models.

Roles: a salesperson owning the linked deal ("own documents"), a "see all
leads" salesperson (both reach the shared conversations through the deal),
a Settings administrator (not the superuser), an "Email sync: manager", a
portal user; anonymous visitors over HTTP. The number of requests made is
printed at the end of the run."""
import base64
import os
import re
import time

import pytest

from . import privacy_world as pw
from .privacy_world import SENT, flat

ADDON_MODELS_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'email_crm_sync', 'models')
EXTRA_MODELS = ('ir.attachment', 'mail.message', 'mail.activity', 'mail.followers', 'res.partner',
                'crm.lead', 'mail.template')
ROLES = ('own_docs', 'see_all', 'settings_admin', 'sync_manager', 'portal')
TEXT_TYPES = ('char', 'text', 'html', 'selection')
RELATION_TYPES = ('many2one', 'many2many', 'one2many')
GROUPABLE = ('char', 'selection', 'many2one', 'boolean', 'date', 'datetime', 'integer')
EVERYTHING = {'active_test': False}
# Calls that describe a model rather than return its records: Odoo 11 answers them
# without checking access; a portal user may get them, though never with a marker.
SCHEMA = ('fields_get', 'default_get', 'onchange', 'name_get')
# Changed by reading or posting a note, never by an attack: not compared.
VOLATILE = re.compile(r'^(__last_update|write_date|write_uid|message_.*|activity_.*|website_message_ids)$')


def _actions_by_model():
    """{model: [action_* method names]}, read from the addon's source, one model per file."""
    found = {}
    for name in sorted(os.listdir(ADDON_MODELS_DIR)):
        if not name.endswith('.py'):
            continue
        with open(os.path.join(ADDON_MODELS_DIR, name), encoding='utf-8') as handle:
            source = handle.read()
        model = re.search(r"^\s+_name = '([\w.]+)'", source, re.M) or \
            re.search(r"^\s+_inherit = '([\w.]+)'", source, re.M)
        methods = re.findall(r'^\s+def (action_\w+)\(', source, re.M)
        if model and methods:
            found.setdefault(model.group(1), []).extend(methods)
    return found


@pytest.fixture(scope='module')
def world(admin_rpc, odoo_server, dovecot, dovecot_fingerprint, smtp_relay):
    started, requests_before = time.monotonic(), pw.REQUESTS['count']
    # Contacts made before the world (by other tests: a hostile corpus makes hundreds)
    # are not the world's: trying every call on each would only take longer.
    partner_floor = max(admin_rpc('res.partner', 'search', [], limit=1, order='id desc',
                                  context={'active_test': False}) or [0])
    built = pw.build_world(admin_rpc, odoo_server, dovecot, dovecot_fingerprint, smtp_relay, 'pg')
    admin = built['admin']
    addon = []
    for row in admin('ir.model', 'search_read', [('model', '=like', 'email.sync.%')], ['model']):
        try:
            admin(row['model'], 'search_count', [])
        except pw.xmlrpc.client.Fault:
            continue  # an abstract model: nothing stored, nothing to call
        addon.append(row['model'])
    built['addon_models'] = sorted(addon)
    built['models'] = sorted(addon) + list(EXTRA_MODELS)
    owner = built['people']['owner']
    built['owner_partner'] = owner('res.users', 'read', [owner.uid], ['partner_id'])[0]['partner_id'][0]
    built['actions'] = _actions_by_model()
    built.update(started=started, requests_before=requests_before, partner_floor=partner_floor)
    # The other salesperson's own mailbox (and what hangs on it) is theirs to act on.
    theirs = built['colleague_box'].mailbox_id
    built['theirs'] = {('email.sync.mailbox', theirs)}
    for model in addon:
        if 'mailbox_id' in admin(model, 'fields_get', [], attributes=['type']):
            built['theirs'] |= {(model, i) for i in admin(model, 'search', [('mailbox_id', '=', theirs)],
                                                           context=EVERYTHING)}
    built['ids'] = {model: [i for i in admin(model, 'search', _base_domain(built, model), context=EVERYTHING)
                            if (model, i) not in built['theirs']]
                    for model in built['models']}
    try:
        yield built
    finally:
        pw.teardown_world(built)


def _base_domain(world, model):
    """The records of the world each model is tried on: the addon's of the world's
    mailboxes (other tests' mailboxes on the same server, a hostile corpus say, would
    only make every answer longer)."""
    owner = world['people']['owner']
    if model.startswith('email.sync.'):
        fields = world['admin'](model, 'fields_get', [], attributes=['type'])
        mailboxes = [world['box'].mailbox_id, world['colleague_box'].mailbox_id]
        if model == 'email.sync.mailbox':
            return [('id', 'in', mailboxes)]
        if 'mailbox_id' in fields:
            return [('mailbox_id', 'in', mailboxes)]
        if 'user_id' in fields and fields['user_id'].get('type') == 'many2one':
            return [('user_id', 'in', [world['box'].user_id, world['colleague_box'].user_id])]
    if model == 'ir.attachment':
        # Files of the world's mail and notes, and what the owner uploaded.
        mail = [('res_model', '=like', 'email.sync.%'), ('res_id', 'in', [
            record_id for name in ('email.sync.message', 'email.sync.thread')
            for record_id in world['admin'](name, 'search', _base_domain(world, name),
                                            context=EVERYTHING)])]
        return ['|', '&'] + mail + [('create_uid', '=', owner.uid)]
    if model == 'mail.message':
        # Notes on conversations, and what the owner's mail made Odoo tell (contacts excluded:
        # a contact's own chatter is everybody's).
        return ['|', ('model', '=like', 'email.sync.%'), '&', ('author_id', '=', world['owner_partner']),
                ('model', '!=', 'res.partner')]
    if model in ('mail.activity', 'mail.followers'):
        return [('res_model', '=like', 'email.sync.%')]
    if model == 'res.partner':
        # The contact the owner typed in Bcc is the owner's own choice of a contact: it is
        # everybody's as a contact; only its link to the conversation is the leak looked for.
        return [('id', '!=', world['convs'][SENT]['bcc_partner']), ('id', '>', world['partner_floor'])]
    return []


class Probe:
    """Calls as one role, and what came back that the role may not see."""

    def __init__(self, world, role):
        self.world, self.role = world, role
        self.rpc = world['people'][role]
        self.hidden = world['markers'].hidden_from(role)
        self.failures = []
        self._fields = {}

    def call(self, label, model, method, *args, **kwargs):
        """The answer, or None when refused; leaks and non-refusals of portal users recorded."""
        # A marker the request carries (a guess, a domain) may come back: it is no leak.
        asked = flat([args, kwargs])
        try:
            value = self.rpc(model, method, *args, **kwargs)
        except pw.xmlrpc.client.Fault as fault:
            # XML-RPC sends Odoo 11's constraint errors (ValidationError) with a
            # traceback: a refusal all the same. Any other traceback from the addon's
            # models is a finding; no error may carry a marker.
            refused = fault.faultCode in pw.REFUSALS or 'odoo.exceptions.ValidationError' in fault.faultString
            if not refused and model in self.world['addon_models']:
                self.failures.append((label, model, 'error with traceback', fault.faultString[-300:]))
            self.look(label, model, fault.faultString, asked)
            return None
        if self.role == 'portal' and model in self.world['addon_models'] and method not in SCHEMA:
            self.failures.append((label, model, 'allowed to a portal user', str(value)[:200]))
        self.look(label, model, value, asked)
        return value

    def search(self, model):
        """The ids of ``model`` this role reaches (none when refused), uncounted as findings."""
        try:
            return self.rpc(model, 'search', [], context=EVERYTHING)
        except pw.xmlrpc.client.Fault:
            return []

    def look(self, label, model, value, asked=''):
        hidden = {m: where for m, where in self.hidden.items() if m not in asked}
        found = self.world['markers'].found_in(flat(value), hidden)
        if found:
            self.failures.append((label, model, 'shows', found))
        return found

    def fields(self, model):
        if model not in self._fields:
            self._fields[model] = self.call('fields_get', model, 'fields_get', [],
                                            attributes=['type', 'store', 'searchable', 'relation']) or {}
        return self._fields[model]

    def readable(self, model):
        """Fields to read: binary ones only where content lives (decoded before looking)."""
        fields = self.fields(model)
        keep_binary = model in self.world['addon_models'] or model == 'ir.attachment'
        return sorted(name for name, f in fields.items() if f['type'] != 'binary' or keep_binary)

    def look_binary(self, label, model, rows):
        for row in rows or []:
            for name, value in row.items():
                if self.fields(model).get(name, {}).get('type') == 'binary' and isinstance(value, str):
                    try:
                        self.look(label, model, base64.b64decode(value).decode('utf-8', 'replace'))
                    except ValueError:
                        pass

    def each_or_all(self, label, model, method, ids, *args, **kwargs):
        """A batch call; when refused as a whole, one call per id (an allowed one may leak)."""
        value = self.call(label, model, method, ids, *args, **kwargs)
        if value is not None or len(ids) < 2:
            return [value] if value is not None else []
        answers = []
        for record_id in ids:
            one = self.call(label, model, method, [record_id], *args, **kwargs)
            if one is not None:
                answers.append(one)
        return answers

    def assert_clean(self):
        assert self.failures == [], '\n'.join(map(str, self.failures[:40])) + \
            '\n(%d findings)' % len(self.failures)


def _groupable(probe, model):
    return sorted(name for name, f in probe.fields(model).items()
                  if f.get('store') and f['type'] in GROUPABLE and name not in ('id',))


def _text_searchable(probe, model):
    models = set(probe.world['models'])
    return sorted(name for name, f in probe.fields(model).items()
                  if f.get('searchable') and (f['type'] in TEXT_TYPES or (
                      f['type'] in RELATION_TYPES and f.get('relation') in models)))


# --- reading ---------------------------------------------------------------------------------
@pytest.mark.parametrize('role', ROLES)
def test_reading_shows_no_hidden_marker(world, role):
    """fields_get, default_get, search_read, read, name_get, name_search and export_data."""
    probe = Probe(world, role)
    for model in world['models']:
        fields = probe.readable(model)
        if not fields and model in world['addon_models']:
            continue  # refused at fields_get: every other call would be too
        probe.call('default_get', model, 'default_get', fields)
        rows = probe.call('search_read', model, 'search_read', _base_domain(world, model), fields,
                          context=EVERYTHING)
        probe.look_binary('search_read', model, rows)
        ids = world['ids'][model]
        if not ids:
            continue
        for rows in probe.each_or_all('read', model, 'read', ids, fields, context=EVERYTHING):
            probe.look_binary('read', model, rows)
        probe.each_or_all('name_get', model, 'name_get', ids, context=EVERYTHING)
        probe.call('name_search', model, 'name_search', '', _base_domain(world, model), limit=500)
        exportable = [name for name in fields if probe.fields(model)[name]['type'] != 'binary']
        probe.each_or_all('export_data', model, 'export_data', ids, exportable, context=EVERYTHING)
    probe.assert_clean()


@pytest.mark.parametrize('role', ROLES)
def test_read_group_labels_show_no_hidden_marker(world, role):
    """Grouped by every groupable field at once (and one by one when that is refused)."""
    probe = Probe(world, role)
    for model in world['models']:
        groupable = _groupable(probe, model)
        if not groupable:
            continue
        domain = _base_domain(world, model)
        together = probe.call('read_group', model, 'read_group', domain, groupable, groupable,
                              lazy=False, context=EVERYTHING)
        if together is None:
            for name in groupable:
                probe.call('read_group:%s' % name, model, 'read_group', domain, [name], [name],
                           context=EVERYTHING)
    probe.assert_clean()


@pytest.mark.parametrize('role', ROLES)
def test_read_group_counts_are_no_oracle(world, role):
    """``ilike`` every hidden marker on every searchable field: as many records as a false guess."""
    probe = Probe(world, role)
    markers, hidden = world['markers'], sorted(probe.hidden)
    fakes = (markers.fakes * (len(hidden) // len(markers.fakes) + 1))[:len(hidden)]

    def count(model, fields, guesses):
        leaves = [(f, 'ilike', g) for f in fields for g in guesses]
        domain = _base_domain(world, model) + ['|'] * (len(leaves) - 1) + leaves
        groups = probe.call('read_group', model, 'read_group', domain, ['create_uid'], ['create_uid'],
                            lazy=False, context=EVERYTHING)
        return None if groups is None else sum(g['__count'] for g in groups)

    for model in world['models']:
        fields = _text_searchable(probe, model)
        if not fields:
            continue
        if count(model, fields, hidden) == count(model, fields, fakes):
            continue
        for field in fields:  # which field, then which guess
            false = count(model, [field], fakes[:1])
            if count(model, [field], hidden) == false:
                continue
            for marker in hidden:
                true = count(model, [field], [marker])
                if true != false:
                    probe.failures.append(('read_group count', model, field, probe.hidden[marker],
                                           true, false))
    probe.assert_clean()


@pytest.mark.parametrize('role', ROLES)
def test_name_search_is_no_oracle(world, role):
    probe = Probe(world, role)
    markers = world['markers']
    subjects = [m for m, (kind, _conv) in probe.hidden.items() if kind == 'subject']
    for model in world['addon_models'] + ['ir.attachment', 'mail.message', 'mail.activity']:
        false = probe.call('name_search', model, 'name_search', markers.fakes[1])
        for marker in subjects + [m for m, (k, _c) in probe.hidden.items() if k == 'attname']:
            true = probe.call('name_search', model, 'name_search', marker)
            if (true is None) != (false is None) or len(true or []) != len(false or []):
                probe.failures.append(('name_search count', model, probe.hidden[marker]))
    probe.assert_clean()


@pytest.mark.parametrize('role', ROLES)
def test_onchange_copy_and_chatter_show_no_hidden_marker(world, role):
    probe = Probe(world, role)
    convs, admin = world['convs'], world['admin']
    # The composer's onchange, fed with the owner's mail (many2one names are taken as superuser).
    composer_fields = probe.fields('email.sync.composer')
    if composer_fields:
        spec = {name: '1' for name in composer_fields}
        for conv in convs.values():
            values = {'parent_id': conv['email'], 'thread_id': conv['thread'],
                      'attachment_ids': [(6, 0, conv['attachments'])], 'template_id': False}
            probe.call('onchange', 'email.sync.composer', 'onchange', [], values, 'parent_id', spec)
    # copy: one record of each model, read back.
    for model in world['models']:
        ids = world['ids'][model]
        if not ids:
            continue
        copied = probe.call('copy', model, 'copy', ids[0])
        if copied:
            probe.call('copy read', model, 'read', [copied], probe.readable(model))
            admin(model, 'unlink', [copied])
    # message_format of the owner's notes, and notes posted with the owner's attachments.
    notes = [c['note'] for c in convs.values()]
    probe.each_or_all('message_format', 'mail.message', 'message_format', notes)
    hidden_attachments = sorted(a for c in convs.values() for a in c['attachments'])
    for conv in convs.values():
        posted = probe.call('message_post', 'email.sync.thread', 'message_post', [conv['thread']],
                            body='A note', message_type='comment', subtype='mail.mt_note',
                            attachment_ids=hidden_attachments)
        if posted:
            probe.call('message_format', 'mail.message', 'message_format', [posted])
    probe.assert_clean()


@pytest.mark.parametrize('role', ROLES)
def test_the_web_client_shows_no_hidden_marker(world, role):
    """The web client's JSON-RPC session: search_read of every model (call_kw and
    /web/dataset/search_read), /web/content and /web/image of every attachment."""
    probe = Probe(world, role)
    web = probe.rpc.web()
    for model in world['models']:
        fields = [name for name in probe.readable(model)
                  if probe.fields(model)[name]['type'] != 'binary']
        for label, call in (('json search_read', lambda: web.call(
                                model, 'search_read', _base_domain(world, model), fields, context=EVERYTHING)),
                            ('/web/dataset/search_read', lambda: web.json('/web/dataset/search_read', {
                                'model': model, 'fields': fields, 'domain': _base_domain(world, model),
                                'context': EVERYTHING}))):
            if not fields:
                continue
            try:
                answer = call()
            except pw.RpcError as error:
                probe.look(label, model, error.message)
                continue
            if role == 'portal' and model in world['addon_models']:
                probe.failures.append((label, model, 'allowed to a portal user', str(answer)[:200]))
            probe.look(label, model, answer)
    for attachment in world['ids']['ir.attachment']:
        for path in ('/web/content/%d?download=true', '/web/image/%d'):
            answer = web.get(path % attachment)
            if answer.status_code == 200:
                probe.look(path % attachment, 'ir.attachment', answer.content.decode('utf-8', 'replace'))
    probe.assert_clean()


# --- changing --------------------------------------------------------------------------------
def _snapshot(world):
    """The owner's data as the superuser reads it, without fields any reading changes."""
    admin, snap = world['admin'], {}
    for model in world['addon_models'] + ['ir.attachment']:
        if model == 'email.sync.composer' or model in NOT_OWNER_DATA:
            continue
        fields = admin(model, 'fields_get', [], attributes=['type', 'store'])
        names = sorted(n for n, f in fields.items() if f.get('store') and not VOLATILE.match(n)
                       and f['type'] != 'binary')
        domain = _base_domain(world, model)
        for row in admin(model, 'search_read', domain, names, context=EVERYTHING):
            if (model, row['id']) not in world['theirs']:
                snap[model, row['id']] = row
    return snap


def _differences(before, after, allowed=()):
    found = []
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            found.append((key, 'created' if old is None else 'deleted'))
            continue
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name) and (key[0], key[1], name) not in allowed:
                found.append((key, name, old.get(name), new.get(name)))
    return found


# The log of security changes records the attacker's own attempts: not the owner's data.
NOT_OWNER_DATA = ('email.sync.audit.log',)


@pytest.mark.parametrize('role', ROLES)
def test_no_call_of_another_user_changes_the_owners_mail(world, role):
    """Relations written from the other side, message_post with the owner's attachments,
    and every public action_* on the owner's records; then the owner's data is compared."""
    probe = Probe(world, role)
    convs, admin, owner = world['convs'], world['admin'], world['people']['owner']
    before = _snapshot(world)
    reachable_before = {m: probe.search(m) for m in ('email.sync.thread', 'email.sync.message')}
    hidden_ids = {
        'email.sync.thread': [c['thread'] for c in convs.values()],
        'email.sync.message': [c['email'] for c in convs.values()],
        'ir.attachment': sorted(a for c in convs.values() for a in c['attachments']),
    }
    # Relations written from the other side, on records of the role's own.
    own = {}
    if probe.fields('res.partner'):
        own['res.partner'] = probe.call('create own', 'res.partner', 'create',
                                        {'name': 'Own contact of %s' % role})
    if probe.fields('crm.lead'):
        own['crm.lead'] = probe.call('create own', 'crm.lead', 'create', {'name': 'Own deal of %s' % role})
    if probe.fields('email.sync.composer'):
        own['email.sync.composer'] = probe.call('create own', 'email.sync.composer', 'create', {
            'mailbox_id': world['box'].mailbox_id, 'subject': 'x', 'body': '<p>x</p>'})
    for model, record_id in own.items():
        if not record_id:
            continue
        for name, field in sorted(probe.fields(model).items()):
            targets = hidden_ids.get(field.get('relation'))
            if field['type'] not in ('many2many', 'one2many') or not targets:
                continue
            probe.call('write %s (4)' % name, model, 'write', [record_id],
                       {name: [(4, target) for target in targets]})
            probe.call('write %s (6)' % name, model, 'write', [record_id], {name: [(6, 0, targets)]})
        probe.call('read own', model, 'read', [record_id], probe.readable(model))
    for model in ('email.sync.thread', 'email.sync.message'):
        now = probe.search(model)
        if sorted(now) != sorted(reachable_before[model]):
            probe.failures.append(('relations', model, 'now reaches', sorted(set(now) - set(reachable_before[model]))))
    # Every public action of the addon, on every record of the owner's.
    targets = dict(world['ids'], **{'res.users': [owner.uid]})
    for model, methods in sorted(world['actions'].items()):
        ids = targets.get(model)
        if ids is None or model == 'email.sync.composer':
            ids = [own.get(model)] if own.get(model) else []
        if model == 'res.config.settings':
            made = probe.call('create', model, 'create', {})
            ids = [made] if made else []
        for method in methods:
            for record_id in ids:
                probe.call(method, model, method, [record_id])
    after = _snapshot(world)
    # Colleagues change nothing, the links to deals included (they decide who sees mail).
    for difference in _differences(before, after, set()):
        probe.failures.append(('owner data changed',) + difference)
    # The deal links as the owner made them, for the roles that follow.
    admin('email.sync.thread', 'write', [c['thread'] for c in convs.values()], {'lead_id': world['deal']})
    for model, record_id in own.items():
        if record_id and model != 'email.sync.composer':
            admin(model, 'unlink', [record_id])
    probe.assert_clean()


# --- outside the company -----------------------------------------------------------------------
def test_anonymous_visitors_get_nothing(world):
    server = world['server']
    web = pw.WebSession(server.url, world['people']['owner'].db)
    web.get('/web/login?db=%s' % world['people']['owner'].db)  # the database, as a visitor's link picks it
    findings = []
    hidden = world['markers'].hidden_from('anonymous')
    for model in world['models']:
        for method, args in (('search_read', [[], []]), ('fields_get', []), ('name_search', [''])):
            try:
                answer = web.call(model, method, *args)
                findings.append((model, method, 'answered', str(answer)[:100]))
            except pw.RpcError as error:
                if world['markers'].found_in(flat([error.message, error.debug]), hidden):
                    findings.append((model, method, 'error shows a marker'))
    for attachment in world['ids']['ir.attachment']:
        for path in ('/web/content/%d?download=true', '/web/image/%d', '/web/content/%d'):
            answer = web.get(path % attachment)
            text = answer.content.decode('utf-8', 'replace').lower()
            if world['markers'].found_in(text, hidden):
                findings.append((path % attachment, answer.status_code))
    for route in ('/web/dataset/search_read',):
        try:
            web.json(route, {'model': 'email.sync.message', 'fields': [], 'domain': []})
            findings.append((route, 'answered'))
        except pw.RpcError:
            pass
    assert findings == []


def test_requests_made(world, capsys):
    """Not a check: the number of requests this module made, for the record."""
    elapsed = time.monotonic() - world['started']
    with capsys.disabled():
        print('\nprivacy generic suite: %d RPC/HTTP requests in %.0f s (world included)'
              % (pw.REQUESTS['count'] - world['requests_before'], elapsed))
