"""Odoo side of bench/conversation_cost.py: the ``conversation`` task of
bench/odoo_tasks.py. One process, one database per size (cloned beforehand):

    python bench/odoo_tasks.py --config C --db D1 conversation --sizes N1,N2 --dbs D1,D2
                               [--workload 500] [--batch 100] [--runs 3] [--warmup 1]
                               [--attachments 0.1] [--seed 7]

Per database:
1. setup: the company's own domain, a salesperson (sales rights) with a
   mailbox, its INBOX and Sent folders (no IMAP server: the folders are
   merged from a listing, as tests/test_email_sync_thread.py does);
2. fill: N stored emails, about 7 % of them filtered internal mail (the
   tombstone the sync keeps, no thread), the rest in threads of 1-8
   messages (In-Reply-To, References, thread keys, subject keys), about
   N/4 contacts in about
   N/20 companies, some additional addresses, open/won/lost deals, the
   thread-contact and thread-deal links the sync would have made; written
   with COPY (no ORM), then VACUUM ANALYZE.
Then, in this same process (every registry loaded once):
3. measure: ``--warmup`` + ``--runs`` rounds; in each round every database
   stores the same mix of ``--workload`` new emails (fresh Message-IDs each
   round), in batches of ``--batch`` through ``MailboxSync._store_batch``
   (what a sync run and tests/mail_factory.deliver do), committed after each
   batch as the sync does. The databases take turns within a round, in an
   order that alternates from round to round, so that whatever else the
   machine does weighs on every size alike. ``_store_batch``,
   ``ConversationBuilder.add`` and the steps inside are wrapped in this
   process (no addon file changed) for their wall time and SQL statements;
4. check: where each email of the workload landed (the paths the workload
   means to exercise were really taken);
5. explain: one more round per database, not measured, EXPLAIN ANALYZEs
   every SELECT right before it runs (the plan as the sync's data had it);
   then every SELECT of the measured runs is re-run with its longest
   parameters under EXPLAIN (ANALYZE, BUFFERS): its scans (index or
   sequential, and with sequential scans disabled whether an index exists),
   the tables' sizes; full text plans of the thread-key, subject and
   contact lookups.

Prints JSON lines (fill, run, summary, explain), each with its size.
"""
import collections
import datetime
import email.utils
import functools
import hashlib
import io
import json
import math
import random
import re
import statistics
import time

import odoo
from odoo.api import Environment

from bench_mailbox import salesperson_with_mailbox

OWNER_NAME, OWNER_ADDR = 'Sam Seller', 'sam.seller@bench-corp.example'
OWN_DOMAIN = 'bench-corp.example'
COLLEAGUES = (('Cora Colleague', 'cora.colleague@bench-corp.example'),
              ('Ian Ops', 'ian.ops@bench-corp.example'))
FIRST = ('Anna', 'Ben', 'Carla', 'David', 'Eva', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas',
         'Klara', 'Lukas', 'Mia', 'Noah', 'Olga', 'Paul', 'Rosa', 'Simon', 'Tara', 'Ugo',
         'Vera', 'Walter', 'Xenia', 'Yann', 'Zoe', 'Marta', 'Pedro', 'Sofia', 'Liam', 'Chen')
LAST = ('Berg', 'Novak', 'Schmidt', 'Rossi', 'Dubois', 'Jansen', 'Kowalski', 'Silva', 'Larsen',
        'Meyer', 'Garcia', 'Nguyen', 'Smith', 'Moreau', 'Bianchi', 'Weber', 'Costa', 'Fischer',
        'Horvat', 'Ivanova', 'Keller', 'Lopez', 'Martin', 'Olsen', 'Petit', 'Quinn', 'Ruiz',
        'Sato', 'Tanaka', 'Vogel')
COMPANY_WORDS = ('Norbex', 'Altara', 'Brightline', 'Cobalt', 'Delmar', 'Evergreen', 'Fjord',
                 'Granite', 'Helix', 'Ironwood', 'Juniper', 'Kestrel', 'Lumen', 'Meridian',
                 'Nimbus', 'Orbit', 'Pioneer', 'Quartz', 'Redwood', 'Summit')
PERSONAL = ('gmail.com', 'outlook.com', 'yahoo.com', 'gmx.de')
TOPICS = ('Quote', 'Offer', 'Proposal', 'Contract renewal', 'Delivery date', 'Invoice question',
          'Pricing', 'Product demo', 'Onboarding', 'Support case', 'Purchase order',
          'Partnership', 'Samples', 'Framework agreement', 'Training dates')
# Subjects that come back again and again (one key shared by many threads,
# more of them the bigger the mailbox) and subjects too generic to thread on.
RECURRING = ('Weekly report', 'Order confirmation', 'Monthly newsletter', 'Project status',
             'Your invoice', 'Shipping notification', 'Timesheet', 'Service report')
GENERIC = ('Hello', 'Quick question', 'Follow up', 'Thanks', 'Meeting')
SIZE_WEIGHTS = (35, 22, 14, 10, 7, 5, 4, 3)   # threads of 1..8 messages, mean about 2.7
SENTENCES = (
    'Thank you for your message and for the documents you sent last week.',
    'We have reviewed the figures with our team and have a few remarks.',
    'Could you confirm the delivery date and the payment terms?',
    'Please find the updated version attached, with the changes we discussed.',
    'I am available on Tuesday or Thursday afternoon for a short call.',
    'Our purchasing department needs the order number on every invoice.',
    'The samples arrived in good condition; the quality matches our expectations.',
    'We would like to extend the agreement for another twelve months.',
    'Let me know if anything is missing on your side.',
    'Best regards, and have a good week.',
)

# The workload: share of each kind of new email (late parents and replies to
# new threads come in pairs: the first of a pair in an earlier batch).
MIX = (
    ('reply_refs', 0.32),      # reply to a stored thread: In-Reply-To + References
    ('internal', 0.03),        # mail among colleagues: filtered by the mail rules, never threaded
    ('late_child', 0.05),      # a reply whose parent is not stored yet ...
    ('late_parent', 0.05),     # ... and that parent, in a later batch
    ('subject_only', 0.15),    # "Re: <subject of a stored thread>", no In-Reply-To/References
    ('new_known', 0.15),       # new conversation from a known contact (some by an additional address)
    ('recurring', 0.05),       # a known contact, a recurring subject ("Weekly report")
    ('new_person', 0.15),      # new conversation from someone unknown (a contact is created)
    ('reply_to_new', 0.05),    # the owner answering a new_known email of an earlier batch
)
EXPLAIN_SEQ_SCAN_ROWS = 2000   # a sequential scan of a table bigger than this is flagged


def emit(**values):
    print(json.dumps(values, default=str), flush=True)


# -- instrumentation ----------------------------------------------------------------

class Probe:
    """SQL statements (count, time, per statement text) and wrapped steps
    (calls, wall time, statements inside)."""

    def __init__(self):
        self.sql_calls = 0
        self.sql_seconds = 0.0
        self.steps = {}           # name -> [calls, seconds, statements]
        self.templates = {}       # query text -> [calls, seconds, params of the longest call]
        self.capture = False
        self.live_plans = None    # when a dict: query text -> (params size, scans), see plan()

    def reset(self):
        self.steps = {}

    def record_sql(self, query, params, seconds, statements=1):
        self.sql_calls += statements
        self.sql_seconds += seconds
        if self.capture:
            key = query.decode('utf-8', 'replace') if isinstance(query, bytes) else str(query)
            entry = self.templates.setdefault(key, [0, 0.0, None, -1])
            entry[0] += statements
            entry[1] += seconds
            size = len(repr(params))
            if size > entry[3]:
                entry[2], entry[3] = params, size

    def plan(self, raw_cursor, query, params):
        """The plan PostgreSQL chooses for this statement right before it runs
        (with the data as the sync sees it), for the longest parameters seen."""
        key = query.decode('utf-8', 'replace') if isinstance(query, bytes) else str(query)
        size = len(repr(params))
        if not _explainable(key) or self.live_plans.get(key, (-1,))[0] >= size:
            return
        raw_cursor.execute('SAVEPOINT bench_plan')
        try:
            # A plain SELECT (see _explainable): running it once more changes nothing.
            raw_cursor.execute(b'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) '
                               + raw_cursor.mogrify(query, params))
            plan = raw_cursor.fetchone()[0][0]
            raw_cursor.execute('RELEASE SAVEPOINT bench_plan')
        except Exception:
            raw_cursor.execute('ROLLBACK TO SAVEPOINT bench_plan')
            return
        top = plan['Plan']
        self.live_plans[key] = (size, _scans(top, []), {
            'ms': plan.get('Execution Time'),
            'buffers': top.get('Shared Hit Blocks', 0) + top.get('Shared Read Blocks', 0)})

    def wrap(self, owner, attribute, name):
        original = getattr(owner, attribute)
        probe = self

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            started, queries = time.perf_counter(), probe.sql_calls
            try:
                return original(*args, **kwargs)
            finally:
                entry = probe.steps.setdefault(name, [0, 0.0, 0])
                entry[0] += 1
                entry[1] += time.perf_counter() - started
                entry[2] += probe.sql_calls - queries

        setattr(owner, attribute, wrapper)


PROBE = Probe()


def instrument():
    """Wrap the SQL layer and the steps of storing an email (this process only)."""
    import psycopg2.extras
    original_execute = odoo.sql_db.Cursor.execute

    @functools.wraps(original_execute)
    def execute(self, query, params=None, log_exceptions=None):
        if PROBE.live_plans is not None and params is not None:
            PROBE.plan(self._obj, query, params)
        started = time.perf_counter()
        try:
            return original_execute(self, query, params, log_exceptions)
        finally:
            PROBE.record_sql(query, params, time.perf_counter() - started)

    odoo.sql_db.Cursor.execute = execute

    # The addon's bulk INSERTs go through psycopg2's execute_values on the raw
    # cursor, which Cursor.execute does not see (one statement per page).
    original_values = psycopg2.extras.execute_values

    @functools.wraps(original_values)
    def execute_values(cur, sql, argslist, template=None, page_size=100, fetch=False):
        argslist = list(argslist)
        started = time.perf_counter()
        try:
            return original_values(cur, sql, argslist, template=template, page_size=page_size,
                                   fetch=fetch)
        finally:
            PROBE.record_sql(sql, None, time.perf_counter() - started,
                             statements=max(1, math.ceil(len(argslist) / page_size)))

    psycopg2.extras.execute_values = execute_values

    from odoo.addons.email_crm_sync.lib import mime_parser
    from odoo.addons.email_crm_sync.models import (email_sync_folder, email_sync_message,
                                                   email_sync_thread, res_partner)
    from odoo.addons.email_crm_sync.sync import contact_linker, conversation_builder, mailbox_sync
    builder = conversation_builder.ConversationBuilder
    PROBE.wrap(mailbox_sync.MailboxSync, '_store_batch', 'store')
    PROBE.wrap(mime_parser, 'parse_message', 'parse')
    PROBE.wrap(email_sync_message.EmailSyncMessage, '_create_many_from_parsed', 'create_rows')
    PROBE.wrap(email_sync_folder.EmailSyncFolder, '_add_links', 'folder_links')
    PROBE.wrap(builder, 'add', 'conversations')
    PROBE.wrap(builder, '_place', 'place')
    PROBE.wrap(builder, '_threads_by_key', 'key_lookup')
    PROBE.wrap(builder, '_threads_by_subject', 'subject_lookup')
    PROBE.wrap(builder, '_new_thread', 'new_thread')
    PROBE.wrap(builder, '_add_to_thread', 'update_thread')
    PROBE.wrap(contact_linker.ContactLinker, 'link_thread', 'link_contacts')
    PROBE.wrap(contact_linker.ContactLinker, 'partners_for', 'partners_for')
    PROBE.wrap(res_partner.ResPartner, '_email_sync_find', 'contact_find')
    PROBE.wrap(email_sync_thread.EmailSyncThread, '_auto_link_deals', 'deals')


# -- setup ----------------------------------------------------------------------------

def setup(env):
    company = env.user.company_id
    company.write({'email_sync_internal_domains': OWN_DOMAIN, 'email_sync_create_contacts': True,
                   'email_sync_never_log': False})
    user, mailbox, folders = salesperson_with_mailbox(env, OWNER_NAME, 'sam.seller', OWNER_ADDR,
                                                      'Bench conversations')
    return user, mailbox, folders['INBOX'], folders['Sent']


# -- filling with SQL -------------------------------------------------------------------

def _copy_text(value):
    if value is None:
        return '\\N'
    if value is True:
        return 't'
    if value is False:
        return 'f'
    if isinstance(value, datetime.datetime):
        return value.strftime('%Y-%m-%d %H:%M:%S')
    text = str(value)
    return text.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n').replace('\r', '\\r')


class Copier:
    """COPY rows into tables. Required columns the fill does not know about (the
    addon moves on) get the value the sync would write (``overrides``) or the
    field's default; which ones were filled that way is reported."""

    def __init__(self, env, overrides=None):
        self.env, self.cr = env, env.cr
        self.overrides = overrides or {}
        self.extras = {}      # table -> OrderedDict(column -> value)

    def _extras(self, table, columns):
        if table not in self.extras:
            self.cr.execute("""SELECT column_name FROM information_schema.columns
                                WHERE table_name = %s AND is_nullable = 'NO'
                                  AND column_default IS NULL ORDER BY ordinal_position""", (table,))
            missing = [c for (c,) in self.cr.fetchall() if c not in columns]
            extras = collections.OrderedDict()
            if missing:
                model = next((m for m in self.env.registry.models.values()
                              if m._table == table and m._auto and not m._abstract), None)
                defaults = self.env[model._name].default_get(missing) if model else {}
                for column in missing:
                    if (table, column) in self.overrides:
                        extras[column] = self.overrides[(table, column)]
                    elif column in defaults:
                        extras[column] = defaults[column]
                    else:
                        raise RuntimeError('the fill does not know the required column %s.%s'
                                           % (table, column))
            self.extras[table] = extras
        return self.extras[table]

    def copy(self, table, columns, rows):
        """COPY rows (tuples in ``columns`` order) into ``table``."""
        extras = self._extras(table, columns)
        tail = ''.join('\t' + _copy_text(v) for v in extras.values())
        buffer = io.StringIO()
        for row in rows:
            buffer.write('\t'.join(_copy_text(v) for v in row))
            buffer.write(tail)
            buffer.write('\n')
        buffer.seek(0)
        self.cr._obj.copy_expert('COPY %s (%s) FROM STDIN' % (
            table, ', '.join('"%s"' % c for c in tuple(columns) + tuple(extras))), buffer)
        return len(rows)

    def report(self):
        return {table: dict(extras) for table, extras in self.extras.items() if extras}


def reserve_ids(cr, sequence, count):
    """The first of ``count`` consecutive ids taken from ``sequence``."""
    cr.execute('SELECT nextval(%s)', (sequence,))
    first = cr.fetchone()[0]
    cr.execute('SELECT setval(%s, %s)', (sequence, first + max(count, 1) - 1))
    return first


ATTACHMENT_SHARE = 0.1   # stored emails with an attachment (its ir_attachment row)
TOMBSTONE_ODDS = 0.2     # per thread: a filtered internal email first (about 7 % of the emails)
COPY_COLUMNS = collections.OrderedDict((
    ('email_sync_thread', (
        'id', 'name', 'subject_key', 'mailbox_id', 'user_id', 'active', 'message_count',
        'first_date', 'last_date', 'participants', 'correspondents', 'has_attachments',
        'has_incoming', 'has_outgoing', 'lead_id', 'lead_link_mode', 'lead_unlinked',
        'create_uid', 'write_uid', 'create_date', 'write_date')),
    ('email_sync_message', (
        'id', 'mailbox_id', 'user_id', 'active', 'archived_by_user', 'deleted_by_user',
        'message_id', 'has_message_id', 'in_reply_to', 'references', 'content_hash', 'subject',
        'email_from', 'from_address', 'email_to', 'email_cc', 'participants', 'date', 'direction',
        'body_text', 'size', 'is_auto_generated', 'headers', 'has_attachments', 'folder_id',
        'thread_id', 'create_uid', 'write_uid', 'create_date', 'write_date', 'filtered_reason')),
    ('ir_attachment', (
        'id', 'name', 'datas_fname', 'res_name', 'res_model', 'res_id', 'company_id', 'type',
        'public', 'store_fname', 'file_size', 'checksum', 'mimetype', 'create_uid', 'write_uid',
        'create_date', 'write_date')),
    ('email_sync_message_folder', (
        'id', 'message_id', 'folder_id', 'user_id', 'uid', 'flags', 'create_uid', 'write_uid',
        'create_date', 'write_date')),
    ('email_sync_thread_key', ('mailbox_id', 'key', 'thread_id')),
    ('email_sync_thread_partner_rel', ('thread_id', 'partner_id')),
    ('email_sync_thread_suggested_lead_rel', ('thread_id', 'lead_id')),
))


class Catalog:
    """What the fill stored, as the workload needs it to write replies."""

    def __init__(self):
        self.contacts = []        # (name, address, partner id, additional address or None)
        self.deal_contacts = []   # contacts whose commercial partner has exactly one open deal
        self.threads = []         # (thread id, subject, main contact index, last Message-IDs)
        self.unique_subject_threads = []   # indices in threads: subjects no other thread has
        self.defaulted_columns = {}
        self.max_thread_id = 0
        self.counts = {}


def _address_name(first, last, index, domain):
    return '%s %s' % (first, last), '%s.%s%d@%s' % (first.lower(), last.lower(), index, domain)


def fill(env, user, mailbox, inbox, sent, size, seed):
    """``size`` stored emails and everything around them, with COPY."""
    from odoo.addons.email_crm_sync.lib import subject_key as subject_keys
    cr = env.cr
    rng = random.Random(seed)
    catalog = Catalog()
    # What ConversationBuilder._new_thread writes on a new thread, when the addon has it.
    overrides = {}
    if 'sharing' in mailbox._fields and 'visibility' in env['email.sync.thread']._fields:
        overrides[('email_sync_thread', 'visibility')] = mailbox.sharing
    if 'share_level' in mailbox._fields and 'share_level' in env['email.sync.thread']._fields:
        overrides[('email_sync_thread', 'share_level')] = mailbox.share_level
    copier = Copier(env, overrides)
    now = datetime.datetime.utcnow().replace(microsecond=0)
    uid = env.uid
    user_id, mailbox_id = user.id, mailbox.id

    # Contacts and their companies.
    n_contacts = max(size // 4, 20)
    n_companies = max(n_contacts // 5, 4)
    first_partner = reserve_ids(cr, 'res_partner_id_seq', n_companies + n_contacts)
    partner_rows, address_rows = [], []
    company_names, company_domains = [], []
    partner_cols = ('id', 'name', 'display_name', 'active', 'customer', 'supplier', 'employee',
                    'type', 'is_company', 'parent_id', 'commercial_partner_id',
                    'commercial_company_name', 'email', 'email_sync_normalized', 'lang',
                    'partner_share', 'color', 'message_bounce', 'opt_out', 'website',
                    'create_uid', 'write_uid', 'create_date', 'write_date')
    for c in range(n_companies):
        word = COMPANY_WORDS[c % len(COMPANY_WORDS)]
        name, domain = '%s %d' % (word, c), '%s%d.example' % (word.lower(), c)
        company_names.append(name)
        company_domains.append(domain)
        pid = first_partner + c
        created = now - datetime.timedelta(days=800 - c % 60)
        partner_rows.append((pid, name, name, True, True, False, False, 'contact', True, None, pid,
                             name, 'info@' + domain, 'info@' + domain, 'en_US', True, 0, 0, False,
                             'https://www.' + domain, uid, uid, created, created))
    contact_company = []
    for i in range(n_contacts):
        first, last = FIRST[rng.randrange(len(FIRST))], LAST[rng.randrange(len(LAST))]
        personal = i % 7 == 6
        company = None if personal else i % n_companies
        domain = PERSONAL[i % len(PERSONAL)] if personal else company_domains[company]
        name, address = _address_name(first, last, i, domain)
        pid = first_partner + n_companies + i
        parent = None if personal else first_partner + company
        created = now - datetime.timedelta(days=790 - i % 700, minutes=i % 1440)
        partner_rows.append((
            pid, name, name if personal else '%s, %s' % (company_names[company], name), True, True,
            False, False, 'contact', False, parent, parent or pid,
            None if personal else company_names[company], address, address,
            'en_US', True, 0, 0, False, None, uid, uid, created, created))
        extra = None
        if i % 10 == 3:
            extra = '%s%d@%s' % (first.lower(), i, PERSONAL[(i // 10) % len(PERSONAL)])
            if personal:  # a personal contact's other address is at their employer
                extra = '%s.%s%d@office%d.example' % (first.lower(), last.lower(), i, i)
            address_rows.append((pid, extra, extra, uid, uid, created, created))
        catalog.contacts.append((name, address, pid, extra))
        contact_company.append(company)
    copier.copy('res_partner', partner_cols, partner_rows)
    first_address = reserve_ids(cr, 'email_sync_partner_address_id_seq', len(address_rows))
    copier.copy('email_sync_partner_address',
              ('id', 'partner_id', 'email', 'email_normalized', 'create_uid', 'write_uid',
               'create_date', 'write_date'),
              [(first_address + k,) + row for k, row in enumerate(address_rows)])

    # Deals: open ones (one per company for 1 in 15 companies, a second one for
    # 1 in 150), won and lost ones, a few on people without a company.
    cr.execute('SELECT id, probability FROM crm_stage ORDER BY sequence, id')
    stages = cr.fetchall()
    open_stages = [s for s, p in stages if p < 100]
    won_stage = [s for s, p in stages if p >= 100][0]
    cr.execute('SELECT id FROM crm_team ORDER BY id LIMIT 1')
    team_id = cr.fetchone()[0]
    company_id = env.user.company_id.id
    deals = []   # (partner id, name, kind)
    for c in range(n_companies):
        pid = first_partner + c
        if c % 15 == 0:
            deals.append((pid, 'Deal %s' % company_names[c], 'open'))
        if c % 150 == 0:
            deals.append((pid, 'Second deal %s' % company_names[c], 'open'))
        if c % 50 == 7:
            deals.append((pid, 'Won deal %s' % company_names[c], 'won'))
        if c % 50 == 21:
            deals.append((pid, 'Lost deal %s' % company_names[c], 'lost'))
    for i in range(6, n_contacts, 140):
        deals.append((catalog.contacts[i][2], 'Deal %s' % catalog.contacts[i][0], 'open'))
    first_lead = reserve_ids(cr, 'crm_lead_id_seq', len(deals))
    lead_rows, open_deals = [], collections.defaultdict(list)
    for k, (pid, name, kind) in enumerate(deals):
        lead_id = first_lead + k
        created = now - datetime.timedelta(days=rng.uniform(5, 600))
        probability = {'open': rng.choice((10.0, 30.0, 70.0)), 'won': 100.0, 'lost': 0.0}[kind]
        stage = won_stage if kind == 'won' else open_stages[k % len(open_stages)]
        lead_rows.append((lead_id, name, pid, kind != 'lost', team_id, 'opportunity', '1', stage,
                          user_id, created, created, probability, 1000.0 * (k % 50 + 1), company_id,
                          0, 0, False, 0.0, 0.0, created if kind == 'won' else None,
                          uid, uid, created, created))
        if kind == 'open':
            open_deals[pid].append(lead_id)
    copier.copy('crm_lead', (
        'id', 'name', 'partner_id', 'active', 'team_id', 'type', 'priority', 'stage_id', 'user_id',
        'date_open', 'date_last_stage_update', 'probability', 'planned_revenue', 'company_id',
        'color', 'message_bounce', 'opt_out', 'day_open', 'day_close', 'date_closed',
        'create_uid', 'write_uid', 'create_date', 'write_date'), lead_rows)

    def commercial(index):
        company = contact_company[index]
        return first_partner + company if company is not None else catalog.contacts[index][2]

    catalog.deal_contacts = [i for i in range(n_contacts) if len(open_deals.get(commercial(i), ())) == 1]

    # Threads and their emails.
    estimated_threads = size // 2 + 10
    first_thread = reserve_ids(cr, 'email_sync_thread_id_seq', estimated_threads)
    first_message = reserve_ids(cr, 'email_sync_message_id_seq', size)
    first_link = reserve_ids(cr, 'email_sync_message_folder_id_seq', size)
    pending = collections.OrderedDict((table, []) for table in COPY_COLUMNS)   # in FK order
    totals = collections.Counter()
    thread_rows, message_rows = pending['email_sync_thread'], pending['email_sync_message']
    first_attachment = reserve_ids(cr, 'ir_attachment_id_seq', size // 5 + 10)
    company_id = env.user.company_id.id

    def flush():
        # Written in chunks (memory), threads before what refers to them.
        for table, rows in pending.items():
            totals[table] += copier.copy(table, COPY_COLUMNS[table], rows)
            rows.clear()

    uids = {inbox.id: 0, sent.id: 0}
    weights = list(SIZE_WEIGHTS)
    subject_count = collections.Counter()
    message_index, t = 0, 0
    owner = (OWNER_NAME, OWNER_ADDR)
    while message_index < size:
        if t >= estimated_threads:
            raise RuntimeError('more threads than ids reserved')
        # Mail among colleagues only, filtered by the mail rules: the sync keeps a
        # tombstone (Message-ID, date, folder), never threaded (thread_id stays NULL).
        while rng.random() < TOMBSTONE_ODDS and message_index < size:
            date = now - datetime.timedelta(days=rng.uniform(1, 730))
            colleague = COLLEAGUES[message_index % 2]
            direction = 'out' if rng.random() < 0.5 else 'in'
            folder_id = inbox.id if direction == 'in' else sent.id
            message_id = '%016x.internal.%d@mail.%s' % (rng.getrandbits(64), message_index, OWN_DOMAIN)
            record_id = first_message + message_index
            message_rows.append((
                record_id, mailbox_id, user_id, True, False, False, message_id, True, None, None,
                hashlib.sha256(message_id.encode()).hexdigest(), None, None, None, None, None, None,
                date, direction, None, 1500 + message_index % 3000, None, None, False, folder_id,
                None, uid, uid, date, date, 'internal'))
            uids[folder_id] += 1
            pending['email_sync_message_folder'].append((
                first_link + message_index, record_id, folder_id, user_id, uids[folder_id],
                '\\Seen', uid, uid, date, date))
            totals['tombstones'] += 1
            message_index += 1
        if message_index >= size:
            break
        thread_id = first_thread + t
        count = min(rng.choices(range(1, 9), weights)[0], size - message_index)
        main = min(int(n_contacts * rng.random() ** 1.5), n_contacts - 1)
        people = [main]
        company = contact_company[main]
        if company is not None and rng.random() < 0.25:
            other = company + rng.randrange(max(1, n_contacts // n_companies + 1)) * n_companies
            if other < n_contacts and other != main and contact_company[other] == company:
                people.append(other)
        colleague = COLLEAGUES[t % 2] if rng.random() < 0.08 else None
        roll = rng.random()
        if roll < 0.03:
            subject = RECURRING[rng.randrange(len(RECURRING))]
        elif roll < 0.06:
            subject = GENERIC[rng.randrange(len(GENERIC))]
        else:
            who = company_names[company] if company is not None else catalog.contacts[main][0]
            subject = '%s %s-%d for %s' % (TOPICS[t % len(TOPICS)], 'Q' if t % 2 else 'R', t, who)
        key = subject_keys.subject_key(subject)
        subject_count[key] += 1
        externals = [(catalog.contacts[i][0], catalog.contacts[i][1]) for i in people]
        everyone = [owner] + externals + ([colleague] if colleague else [])
        addresses = sorted({a for _n, a in everyone})
        date = now - datetime.timedelta(days=rng.uniform(1, 730))
        first_date = date
        ids, external_root = [], None
        if rng.random() < 0.1:   # the first email we hold answers one we never saw
            external_root = '%016x@mail.%s' % (rng.getrandbits(64), externals[0][1].split('@')[1])
        direction = 'in' if rng.random() < 0.6 else 'out'
        has_in = has_out = has_attachment = False
        for j in range(count):
            if j:
                date += datetime.timedelta(hours=rng.uniform(0.5, 72))
                if rng.random() < 0.8:
                    direction = 'out' if direction == 'in' else 'in'
            if direction == 'in':
                sender = externals[1] if len(externals) > 1 and rng.random() < 0.2 else externals[0]
            else:
                sender = owner
            others = [p for p in everyone if p[1] != sender[1]]
            to, cc = others[:1], others[1:]
            domain = sender[1].split('@')[1]
            message_id = '%016x.%d.%d@mail.%s' % (rng.getrandbits(64), t, j, domain)
            parents = ([external_root] if external_root else []) + ids
            in_reply_to = parents[-1] if parents else None
            references = ' '.join(parents[-10:]) or None
            this_subject = subject if j == 0 else 'Re: ' + subject
            body = ' '.join(SENTENCES[(t + j + k) % len(SENTENCES)] for k in range(3 + (t + j) % 8))
            email_from = '%s <%s>' % sender
            email_to = ', '.join('%s <%s>' % p for p in to) or None
            email_cc = ', '.join('%s <%s>' % p for p in cc) or None
            headers = ('From: %s\nTo: %s\n%sSubject: %s\nDate: %s\nMessage-ID: <%s>\n%s'
                       'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8'
                       % (email_from, email_to, 'Cc: %s\n' % email_cc if email_cc else '',
                          this_subject, email.utils.format_datetime(
                              date.replace(tzinfo=datetime.timezone.utc)), message_id,
                          'In-Reply-To: <%s>\nReferences: %s\n' % (
                              in_reply_to, ' '.join('<%s>' % r for r in parents[-10:]))
                          if in_reply_to else ''))
            folder_id = inbox.id if direction == 'in' else sent.id
            record_id = first_message + message_index
            attached = rng.random() < ATTACHMENT_SHARE and totals['attachments'] < size // 5 + 10
            message_rows.append((
                record_id, mailbox_id, user_id, True, False, False, message_id, True, in_reply_to,
                references, hashlib.sha256(message_id.encode()).hexdigest(), this_subject,
                email_from, sender[1], email_to, email_cc, '\n'.join(addresses), date, direction,
                body, len(body) + len(headers) + 40, subject in RECURRING, headers, attached,
                folder_id, thread_id, uid, uid, date, date, None))
            if attached:   # the metadata row only (no file: nothing reads it while storing)
                checksum = hashlib.sha1(message_id.encode()).hexdigest()
                pending['ir_attachment'].append((
                    first_attachment + totals['attachments'], 'offer.pdf', 'offer.pdf', this_subject,
                    'email.sync.message', record_id, company_id, 'binary', False,
                    '%s/%s' % (checksum[:2], checksum), 40000 + message_index % 50000, checksum,
                    'application/pdf', uid, uid, date, date))
                totals['attachments'] += 1
            uids[folder_id] += 1
            pending['email_sync_message_folder'].append((
                first_link + message_index, record_id, folder_id, user_id, uids[folder_id],
                '\\Seen', uid, uid, date, date))
            ids.append(message_id)
            has_in, has_out = has_in or direction == 'in', has_out or direction == 'out'
            has_attachment = has_attachment or attached
            message_index += 1
        for k in dict.fromkeys(([external_root] if external_root else []) + ids):
            pending['email_sync_thread_key'].append((mailbox_id, k, thread_id))
        partner_ids = sorted({catalog.contacts[i][2] for i in people})
        for pid in partner_ids:
            pending['email_sync_thread_partner_rel'].append((thread_id, pid))
        deals_here = sorted({d for i in people for d in open_deals.get(commercial(i), ())}
                            | {d for i in people for d in open_deals.get(catalog.contacts[i][2], ())})
        lead_id = deals_here[0] if len(deals_here) == 1 else None
        if len(deals_here) > 1:
            pending['email_sync_thread_suggested_lead_rel'].extend((thread_id, d) for d in deals_here)
        totals['threads_linked_to_a_deal'] += bool(lead_id)
        correspondents = ', '.join(n for n, _a in externals)[:500]
        thread_rows.append((thread_id, subject, key, mailbox_id, user_id, True, count, first_date,
                            date, '\n'.join(addresses), correspondents, has_attachment, has_in, has_out,
                            lead_id, 'auto' if lead_id else None, False, uid, uid, first_date, date))
        catalog.threads.append((thread_id, subject, main, tuple(ids[-5:])))
        t += 1
        if len(message_rows) >= 20000:
            flush()
    flush()
    catalog.max_thread_id = first_thread + t - 1
    for index, (_tid, subject, _main, _ids) in enumerate(catalog.threads):
        key = subject_keys.subject_key(subject)
        if subject_count[key] == 1 and not subject_keys.is_generic(key):
            catalog.unique_subject_threads.append(index)

    for folder in (inbox, sent):
        cr.execute("""UPDATE email_sync_folder SET uidvalidity = 1, last_uid = %s, link_count = %s,
                             import_complete = true, import_total = %s, import_done = %s
                       WHERE id = %s""", (uids[folder.id], uids[folder.id], uids[folder.id],
                                          uids[folder.id], folder.id))
    env.cache.invalidate()
    catalog.defaulted_columns = copier.report()
    catalog.counts = {
        'messages': totals['email_sync_message'], 'threads': totals['email_sync_thread'],
        'thread_keys': totals['email_sync_thread_key'], 'attachments': totals['ir_attachment'],
        'filtered_tombstones': totals['tombstones'],
        'contacts': n_contacts, 'companies': n_companies, 'additional_addresses': len(address_rows),
        'deals_open': sum(1 for d in deals if d[2] == 'open'),
        'deals_won': sum(1 for d in deals if d[2] == 'won'),
        'deals_lost': sum(1 for d in deals if d[2] == 'lost'),
        'threads_linked_to_a_deal': totals['threads_linked_to_a_deal'],
        'thread_contact_links': totals['email_sync_thread_partner_rel'], 'inbox_uids': uids[inbox.id],
        'sent_uids': uids[sent.id],
        'largest_subject_key_group': subject_count.most_common(1)[0][1],
        'unique_subject_threads': len(catalog.unique_subject_threads),
    }
    return catalog, uids


FILLED_TABLES = ('res_partner', 'email_sync_partner_address', 'crm_lead', 'email_sync_thread',
                 'email_sync_message', 'email_sync_message_folder', 'email_sync_thread_key',
                 'email_sync_thread_partner_rel', 'email_sync_thread_suggested_lead_rel',
                 'ir_attachment')


def vacuum_analyze(db_name):
    """What autovacuum would have done to a database that grew over months."""
    db = odoo.sql_db.db_connect(db_name)
    cr = db.cursor()
    try:
        cr.autocommit(True)
        for table in FILLED_TABLES:
            cr.execute('VACUUM ANALYZE %s' % table)
    finally:
        cr.close()


# -- the workload -------------------------------------------------------------------------

def raw_email(sender, to, subject, message_id, date, cc=(), in_reply_to=None, references=(),
              body='Hello', attachment=False):
    """A plain email, written by the addon's tests/mail_factory; people as (name, address)."""
    from odoo.addons.email_crm_sync.tests.mail_factory import raw_mail

    def people(items):
        return ['%s <%s>' % p for p in items]
    return raw_mail(people([sender])[0], people(to), subject, message_id, in_reply_to=in_reply_to,
                    references=references, cc=people(cc),
                    date=email.utils.format_datetime(date.replace(tzinfo=datetime.timezone.utc)),
                    body=body, attachment=attachment, attachment_size=2000)


class Item:
    """One email of the workload and what should become of it."""
    __slots__ = ('kind', 'message_id', 'raw', 'batch', 'expect', 'address')

    def __init__(self, kind, message_id, raw, expect=None, address=None):
        self.kind, self.message_id, self.raw = kind, message_id, raw
        self.expect, self.address, self.batch = expect, address, None


def build_workload(catalog, total, batch_size, tag, seed, attachments):
    """``total`` new emails in batches of ``batch_size``: the MIX, pairs split
    over two batches (the first of a pair always in an earlier one)."""
    # Two streams: ``rng`` shapes the workload (kinds, attachments, batches, texts,
    # dates) and is the same at every size; ``pick`` chooses stored threads and
    # contacts, whose number differs between sizes.
    rng, pick = random.Random(seed), random.Random(seed + 1)
    batches = total // batch_size
    if batches < 2 or total % batch_size:
        raise ValueError('the workload must be a multiple (2 or more) of the batch size')
    counts = {kind: int(total * share) for kind, share in MIX}
    counts['late_parent'] = counts['late_child']
    counts['reply_to_new'] = min(counts['reply_to_new'], counts['new_known'])
    counts['reply_refs'] += total - sum(counts.values())
    now = datetime.datetime.utcnow().replace(microsecond=0)
    owner = (OWNER_NAME, OWNER_ADDR)
    serial = iter(range(1, 10 ** 9))
    contacts = catalog.contacts

    def new_id(domain):
        return 'bench.%s.%d.%016x@mail.%s' % (tag, next(serial), rng.getrandbits(64), domain)

    def body(kind):
        text = ' '.join(rng.choice(SENTENCES) for _ in range(rng.randint(2, 9)))
        if kind in ('reply_refs', 'reply_to_new', 'late_child', 'subject_only'):
            text += '\r\n\r\n> ' + '\r\n> '.join(rng.choice(SENTENCES) for _ in range(4))
        return text

    def when(hours=10.0):
        return now - datetime.timedelta(minutes=rng.uniform(0, hours * 60))

    def contact(index, additional=False):
        name, address, _pid, extra = contacts[index]
        return (name, extra if additional and extra else address)

    def has_attachment():
        return rng.random() < attachments

    singles, pairs = [], []
    for _ in range(counts['reply_refs']):
        thread_id, subject, main, last_ids = catalog.threads[pick.randrange(len(catalog.threads))]
        person = contact(main)
        sender, to = (person, [owner]) if rng.random() < 0.75 else (owner, [person])
        mid = new_id(sender[1].split('@')[1])
        singles.append(Item('reply_refs', mid, raw_email(
            sender, to, 'Re: ' + subject, mid, when(), in_reply_to=last_ids[-1],
            references=last_ids, body=body('reply_refs'), attachment=has_attachment()),
            expect=('thread', thread_id)))
    for k in range(counts['internal']):
        sender, colleague = (owner, COLLEAGUES[k % 2]) if k % 2 else (COLLEAGUES[k % 2], owner)
        mid = new_id(OWN_DOMAIN)
        singles.append(Item('internal', mid, raw_email(
            sender, [colleague], 'Internal: %s %s/%d' % (rng.choice(TOPICS), tag, next(serial)), mid,
            when(), body=body('internal')), expect=('filtered',)))
    for _ in range(counts['subject_only']):
        index = catalog.unique_subject_threads[pick.randrange(len(catalog.unique_subject_threads))]
        thread_id, subject, main, _ids = catalog.threads[index]
        person = contact(main)
        mid = new_id(person[1].split('@')[1])
        prefix = rng.choice(('Re: ', 'RE: ', 'AW: ', 'Re: Re: ', 'Fwd: '))
        singles.append(Item('subject_only', mid, raw_email(
            person, [owner], prefix + subject, mid, when(), body=body('subject_only'),
            attachment=has_attachment()), expect=('thread', thread_id)))
    new_known = []
    for k in range(counts['new_known']):
        # A third from contacts with exactly one open deal (the thread gets linked to it).
        pool = catalog.deal_contacts if k % 3 == 0 and catalog.deal_contacts else None
        index = pool[pick.randrange(len(pool))] if pool else pick.randrange(len(contacts))
        person = contact(index, additional=rng.random() < 0.2)
        cc = [contact(pick.randrange(len(contacts)))] if rng.random() < 0.2 else []
        mid = new_id(person[1].split('@')[1])
        subject = '%s %s/%d' % (rng.choice(TOPICS), tag, next(serial))
        date = when()
        item = Item('new_known', mid, raw_email(person, [owner], subject, mid, date, cc=cc,
                                                body=body('new_known'), attachment=has_attachment()),
                    expect=('new',))
        new_known.append((item, person, subject, date))
    reply_targets = set(rng.sample(range(len(new_known)), counts['reply_to_new']))
    for k, (item, person, subject, date) in enumerate(new_known):
        if k not in reply_targets:
            singles.append(item)
            continue
        mid = new_id(OWN_DOMAIN)
        reply = Item('reply_to_new', mid, raw_email(
            owner, [person], 'Re: ' + subject, mid, date + datetime.timedelta(hours=1),
            in_reply_to=item.message_id, references=[item.message_id], body=body('reply_to_new')),
            expect=('same_as', item.message_id))
        pairs.append((item, reply))
    for _ in range(counts['recurring']):
        person = contact(pick.randrange(len(contacts)))
        mid = new_id(person[1].split('@')[1])
        singles.append(Item('recurring', mid, raw_email(
            person, [owner], rng.choice(RECURRING), mid, when(), body=body('recurring')),
            expect=None))
    for k in range(counts['new_person']):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = 'newco-%s-%d.example' % (tag, k) if k % 3 else rng.choice(PERSONAL)
        person = ('%s %s' % (first, last), '%s.%s.%s%d@%s' % (first.lower(), last.lower(), tag, k,
                                                             domain))
        cc = [contact(pick.randrange(len(contacts)))] if rng.random() < 0.3 else []
        mid = new_id(domain)
        singles.append(Item('new_person', mid, raw_email(
            person, [owner], '%s %s/%d' % (rng.choice(TOPICS), tag, next(serial)), mid, when(),
            cc=cc, body=body('new_person'), attachment=has_attachment()),
            expect=('new',), address=person[1]))
    for _ in range(counts['late_child']):
        thread_person = contact(pick.randrange(len(contacts)))
        parent_id = new_id(thread_person[1].split('@')[1])
        subject = '%s %s/%d' % (rng.choice(TOPICS), tag, next(serial))
        date = when()
        child_id = new_id(OWN_DOMAIN)
        child = Item('late_child', child_id, raw_email(
            owner, [thread_person], 'Re: ' + subject, child_id, date, in_reply_to=parent_id,
            references=[parent_id], body=body('late_child')), expect=('new',))
        parent = Item('late_parent', parent_id, raw_email(
            thread_person, [owner], subject, parent_id, date - datetime.timedelta(hours=2),
            body=body('late_parent'), attachment=has_attachment()),
            expect=('same_as', child_id))
        pairs.append((child, parent))

    capacity = [batch_size] * batches
    for first, second in pairs:
        early = [b for b in range(batches - 1) if capacity[b] and any(capacity[b + 1:])]
        b1 = rng.choice(early)
        b2 = rng.choice([b for b in range(b1 + 1, batches) if capacity[b]])
        first.batch, second.batch = b1, b2
        capacity[b1] -= 1
        capacity[b2] -= 1
    slots = [b for b in range(batches) for _ in range(capacity[b])]
    rng.shuffle(slots)
    for item, slot in zip(singles, slots):
        item.batch = slot
    items = singles + [i for pair in pairs for i in pair]
    assert len(items) == total and all(i.batch is not None for i in items), 'workload mix'
    rng.shuffle(items)
    return [[i for i in items if i.batch == b] for b in range(batches)]


def check_outcome(cr, mailbox_id, batches, max_thread_id):
    """Where the workload's emails landed, per kind: (as expected, count)."""
    items = [i for batch in batches for i in batch]
    cr.execute('SELECT message_id, thread_id FROM email_sync_message '
               'WHERE mailbox_id = %s AND message_id IN %s',
               (mailbox_id, tuple(i.message_id for i in items)))
    thread_of = dict(cr.fetchall())
    addresses = tuple(i.address for i in items if i.address)
    created = set()
    if addresses:
        cr.execute('SELECT email_sync_normalized FROM res_partner WHERE email_sync_normalized IN %s',
                   (addresses,))
        created = {row[0] for row in cr.fetchall()}
    outcome = collections.OrderedDict()
    for item in items:
        entry = outcome.setdefault(item.kind, {'emails': 0, 'as_expected': 0, 'stored_thread': 0})
        entry['emails'] += 1
        got = thread_of.get(item.message_id)
        if got and got <= max_thread_id:
            entry['stored_thread'] += 1
        expect = item.expect
        if expect is None:
            ok = bool(got)
        elif expect[0] == 'filtered':
            ok = item.message_id in thread_of and got is None
        elif expect[0] == 'thread':
            ok = got == expect[1]
        elif expect[0] == 'same_as':
            ok = bool(got) and got == thread_of.get(expect[1])
        else:
            ok = bool(got) and got > max_thread_id
        if item.address:
            entry.setdefault('contact_created', 0)
            entry['contact_created'] += item.address in created
        entry['as_expected'] += bool(ok)
    return outcome


# -- EXPLAIN -----------------------------------------------------------------------------------

_SPACES = re.compile(r'\s+')


def _short(query, width=150):
    text = _SPACES.sub(' ', query).strip()
    return text if len(text) <= width else text[:width - 3] + '...'


_INSERT_COLUMNS = re.compile(r'^(\s*INSERT INTO \S+ \()([^)]*)\)', re.IGNORECASE)
_UPDATE_SET = re.compile(r'^(\s*UPDATE \S+ SET )(.*?)( WHERE .*)$', re.IGNORECASE | re.DOTALL)


def _canonical(query):
    """The statement with the ORM's column order (which follows dict order) sorted,
    so that one statement matches itself across databases."""
    match = _INSERT_COLUMNS.match(query)
    if match:
        columns = sorted(c.strip() for c in match.group(2).split(','))
        query = match.group(1) + ', '.join(columns) + ')' + query[match.end():]
    match = _UPDATE_SET.match(query)
    if match and '(' not in match.group(2):
        query = match.group(1) + ','.join(sorted(match.group(2).split(','))) + match.group(3)
    return _short(query, 300)


def _scans(node, out):
    kind = node.get('Node Type', '')
    if 'Scan' in kind:
        out.append({'node': kind, 'relation': node.get('Relation Name'),
                    'index': node.get('Index Name'), 'rows': node.get('Actual Rows'),
                    'loops': node.get('Actual Loops'),
                    'removed': (node.get('Rows Removed by Filter') or 0)
                    + (node.get('Rows Removed by Index Recheck') or 0)})
    for child in node.get('Plans', ()):
        _scans(child, out)
    return out


def _explainable(query):
    head = query.lstrip().upper()
    return (head.startswith('SELECT') or head.startswith('WITH')) and not any(
        word in head for word in ('FOR UPDATE', 'NEXTVAL', 'ADVISORY', 'FOR NO KEY UPDATE'))


def explain_all(cr, emails_measured, mailbox_id, templates, live_plans):
    """EXPLAIN ANALYZE every SELECT of the measured runs (the longest parameters
    seen), plus full text plans of the thread-key and subject lookups."""
    PROBE.capture = False
    cr.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r'")
    tuples = dict(cr.fetchall())
    audited, texts = [], {}
    subject_group = None
    key_query = subject_query = find_query = None
    for query, (calls, seconds, params, _size) in sorted(templates.items(),
                                                         key=lambda item: -item[1][1]):
        entry = {'query': _short(query), 'key': _canonical(query),
                 'calls_per_email': round(calls / emails_measured, 3),
                 'mean_ms': round(1000 * seconds / calls, 4) if calls else None,
                 'ms_per_email': round(1000 * seconds / emails_measured, 4)}
        if 'FROM email_sync_thread_key' in query and 'key IN' in query:
            key_query, entry['role'] = (query, params), 'thread key lookup'
        elif 'subject_key = %s' in query:
            subject_query, entry['role'] = (query, params), 'subject lookup'
        elif 'email_sync_normalized IN' in query:
            find_query, entry['role'] = (query, params), 'contact lookup'
        elif 'FROM email_sync_message' in query and 'thread_id IS NULL' in query:
            entry['role'] = 'the new emails (ConversationBuilder.add)'
        elif 'FROM email_sync_message_folder' in query and 'uid IN' in query:
            entry['role'] = 'UIDs stored already (_stored_uids)'
        elif '"email_sync_message"."message_id" in' in query:
            entry['role'] = 'Message-IDs stored already (_store_batch)'
        if _explainable(query):
            statement = cr._obj.mogrify(query, params).decode('utf-8', 'replace')
            try:
                cr.execute('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' + statement)
                plan = cr.fetchone()[0][0]
                scans = _scans(plan['Plan'], [])
                entry['explain_ms'] = plan.get('Execution Time')
                entry['scans'] = ['%s%s%s rows=%s%s' % (
                    s['node'], ' on %s' % s['relation'] if s['relation'] else '',
                    ' using %s' % s['index'] if s['index'] else '', s['rows'],
                    ' removed=%d' % s['removed'] if s['removed'] else '') for s in scans]
                live_entry = live_plans.get(query)
                live = live_entry[1] if live_entry else None
                if live is not None:
                    entry['live_scans'] = ['%s%s%s rows=%s%s' % (
                        s['node'], ' on %s' % s['relation'] if s['relation'] else '',
                        ' using %s' % s['index'] if s['index'] else '', s['rows'],
                        ' removed=%d' % s['removed'] if s['removed'] else '') for s in live]
                    entry['live_ms'] = live_entry[2]['ms']
                    entry['live_buffers'] = live_entry[2]['buffers']
                    entry['live_removed'] = sum(s['removed'] for s in live)
                entry['seq_scans'] = sorted({s['relation'] for s in scans + (live or [])
                                             if s['node'] == 'Seq Scan' and s['relation']})
                if entry['seq_scans']:
                    # Is there an index the planner could use (and chose not to, the table
                    # being small), or none at all?
                    cr.execute('SET LOCAL enable_seqscan = off')
                    cr.execute('EXPLAIN (FORMAT JSON) ' + statement)
                    forced = _scans(cr.fetchone()[0][0]['Plan'], [])
                    cr.execute('SET LOCAL enable_seqscan = on')
                    entry['without_seqscan'] = ['%s%s%s' % (
                        s['node'], ' on %s' % s['relation'] if s['relation'] else '',
                        ' using %s' % s['index'] if s['index'] else '') for s in forced
                        if s['relation'] in entry['seq_scans'] or s['index']]
                    entry['no_index_for'] = sorted({s['relation'] for s in forced
                                                    if s['node'] == 'Seq Scan'
                                                    and s['relation'] in entry['seq_scans']})
                entry['flags'] = [
                    'Seq Scan on %s (%d rows in the table)' % (s['relation'], tuples.get(s['relation'], 0))
                    for s in scans + (live or []) if s['node'] == 'Seq Scan'
                    and tuples.get(s['relation'], 0) > EXPLAIN_SEQ_SCAN_ROWS] + [
                    '%d rows removed by filter in %s%s' % (s['removed'], s['relation'] or s['index'],
                                                         ' (as it ran)' if when else '')
                    for when, plan_scans in ((False, scans), (True, live or []))
                    for s in plan_scans if s['removed'] > 1000]
            except Exception as error:   # a statement that cannot be re-run alone
                cr.rollback()
                entry['explain_error'] = str(error).splitlines()[0]
        audited.append(entry)

    def text_plan(query, params):
        statement = cr._obj.mogrify(query, params).decode('utf-8', 'replace')
        cr.execute('EXPLAIN (ANALYZE, BUFFERS) ' + statement)
        return '%s\n%s' % (_short(statement, 400), '\n'.join(row[0] for row in cr.fetchall()))

    if key_query:
        texts['thread key lookup (the call with the most keys)'] = text_plan(*key_query)
    if subject_query:
        query, params = subject_query
        texts['subject lookup (a workload subject)'] = text_plan(query, params)
        from odoo.addons.email_crm_sync.lib import subject_key as subject_keys
        cr.execute('SELECT subject_key, count(*) FROM email_sync_thread WHERE mailbox_id = %s '
                   'GROUP BY subject_key ORDER BY count(*) DESC LIMIT 50', (mailbox_id,))
        # The biggest group the sync can look up (generic subjects are never looked up).
        common_key, common_count = next(((k, n) for k, n in cr.fetchall()
                                         if not subject_keys.is_generic(k or '')), (None, 0))
        if common_key and isinstance(params, (tuple, list)) and len(params) == 3:
            group_params = (params[0], common_key, params[2])
            texts['subject lookup (the most common subject key, %r: %d threads)'
                  % (common_key, common_count)] = text_plan(query, group_params)
            statement = cr._obj.mogrify(query, group_params).decode('utf-8', 'replace')
            timings = []
            for _ in range(7):
                cr.execute('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' + statement)
                plan = cr.fetchone()[0][0]
                timings.append(plan['Execution Time'])
            scans = _scans(plan['Plan'], [])
            subject_group = {'key': common_key, 'threads': common_count,
                             'rows_read': sum(s['rows'] or 0 for s in scans),
                             'buffers': plan['Plan'].get('Shared Hit Blocks', 0)
                             + plan['Plan'].get('Shared Read Blocks', 0),
                             'median_ms': statistics.median(timings)}
    if find_query:
        texts['contact lookup (_email_sync_find)'] = text_plan(*find_query)
    cr.rollback()
    scanned = {r for entry in audited for r in entry.get('seq_scans', ())}
    return audited, texts, {r: tuples.get(r, 0) for r in sorted(scanned)}, subject_group


def database_size(cr):
    cr.execute('SELECT pg_database_size(current_database())')
    return cr.fetchone()[0]


def table_sizes(cr):
    cr.execute("""SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
                    FROM pg_class c WHERE c.relname IN %s""", (FILLED_TABLES + ('mail_message',),))
    return {name: {'rows': rows, 'mb': round(size / 1e6, 1)} for name, rows, size in cr.fetchall()}


# -- the task ---------------------------------------------------------------------------------

def add_arguments(parser):
    parser.add_argument('--sizes', required=True,
                        help='stored emails to fill in, one per database of --dbs (comma-separated)')
    parser.add_argument('--dbs', required=True, help='databases (comma-separated), one per size')
    parser.add_argument('--workload', type=int, default=500, help='new emails per run')
    parser.add_argument('--batch', type=int, default=100, help='emails per _store_batch call')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--attachments', type=float, default=0.1,
                        help='share of new emails with a small attachment')
    parser.add_argument('--seed', type=int, default=7)


def _per_email(steps, emails):
    return {name: {'ms': 1000 * seconds / emails, 'queries': queries / emails,
                   'calls': calls / emails}
            for name, (calls, seconds, queries) in steps.items()}


class Database:
    """One size: its registry, its open cursor and what was filled in."""

    def __init__(self, size, name):
        self.size, self.name = size, name
        self.registry = odoo.registry(name)
        self.cr = self.registry.cursor()
        # Contact creation as a whole (every override of res.partner's create):
        # the registry's own class, one per database.
        PROBE.wrap(self.registry['res.partner'], 'create', 'contact_create')
        self.mailbox_id = self.inbox_id = None
        self.catalog = self.next_uid = None
        self.runs = []
        self.templates = {}   # SQL text -> [calls, seconds, params], of the measured runs
        self.live_plans = {}  # SQL text -> (params size, scans), from the plan round

    def fill(self, args):
        with Environment.manage():
            env = Environment(self.cr, odoo.SUPERUSER_ID, {})
            started = time.perf_counter()
            user, mailbox, inbox, sent = setup(env)
            self.cr.commit()
            setup_seconds = time.perf_counter() - started
            started = time.perf_counter()
            self.catalog, uids = fill(env, user, mailbox, inbox, sent, self.size, args.seed)
            self.cr.commit()
            self.fill_seconds = time.perf_counter() - started
            self.mailbox_id, self.inbox_id = mailbox.id, inbox.id
            self.next_uid = iter(range(uids[inbox.id] + 1, 10 ** 9))
        started = time.perf_counter()
        vacuum_analyze(self.name)
        self.vacuum_seconds = time.perf_counter() - started
        emit(step='fill', size=self.size, db=self.name, counts=self.catalog.counts,
             defaulted_columns=self.catalog.defaulted_columns,
             setup_seconds=round(setup_seconds, 2), fill_seconds=round(self.fill_seconds, 2),
             vacuum_analyze_seconds=round(self.vacuum_seconds, 2), tables=table_sizes(self.cr))

    def run(self, args, run_index, measured, order, plans=False):
        """Store one workload (fresh Message-IDs), batch by batch as the sync does.
        With ``plans``, an unmeasured round that EXPLAINs every SELECT before it runs."""
        from odoo.addons.email_crm_sync.lib.imap_folder import FetchedMessage
        from odoo.addons.email_crm_sync.sync.mailbox_sync import MailboxSync
        cr = self.cr
        tag = '%s%d' % ('p' if plans else 'r' if measured else 'w', run_index)
        # The same seed at every size: the same mix, order and batches of kinds.
        batches = build_workload(self.catalog, args.workload, args.batch, tag,
                                 args.seed * 1000 + run_index, args.attachments)
        with Environment.manage():
            env = Environment(cr, odoo.SUPERUSER_ID, {})
            mailbox = env['email.sync.mailbox'].browse(self.mailbox_id).sudo()
            inbox = env['email.sync.folder'].browse(self.inbox_id).sudo()
            engine = MailboxSync(mailbox, deadline=float('inf'))
            PROBE.reset()
            PROBE.templates = self.templates
            PROBE.capture = measured
            PROBE.live_plans = self.live_plans if plans else None
            batch_times, commit_seconds = [], 0.0
            for batch in batches:
                fetched = [FetchedMessage(uid=next(self.next_uid), flags=(),
                                          internaldate=datetime.datetime.utcnow(),
                                          size=len(item.raw), raw=item.raw, modseq=None)
                           for item in batch]
                before = PROBE.steps.get('store', [0, 0.0, 0])[1]
                stored = len(engine._store_batch(inbox, fetched))
                if stored != len(batch):
                    raise RuntimeError('stored %d of %d' % (stored, len(batch)))
                batch_times.append(PROBE.steps['store'][1] - before)
                tick = time.perf_counter()
                cr.commit()
                commit_seconds += time.perf_counter() - tick
                engine._batch_done()   # what the sync does after each batch: drop the ORM cache
            PROBE.capture = False
            PROBE.live_plans = None
            steps = _per_email(PROBE.steps, args.workload)
        outcome = check_outcome(cr, self.mailbox_id, batches, self.catalog.max_thread_id)
        run = {'run': run_index, 'measured': measured, 'plans': plans, 'order': order,
               'emails': args.workload,
               'steps': steps, 'commit_ms': 1000 * commit_seconds / args.workload,
               'batch_ms': [round(1000 * s, 1) for s in batch_times], 'outcome': outcome}
        self.runs.append(run)
        emit(step='run', size=self.size, **run)

    def summary(self, args):
        measured = [r for r in self.runs if r['measured']]
        names = sorted({n for r in measured for n in r['steps']})
        median = {name: {field: statistics.median(r['steps'].get(name, {}).get(field, 0.0)
                                                  for r in measured)
                         for field in ('ms', 'queries', 'calls')} for name in names}
        spread = {name: [round(r['steps'].get(name, {}).get('ms', 0.0), 3) for r in measured]
                  for name in names}
        emit(step='summary', size=self.size, counts=self.catalog.counts, runs=len(measured),
             workload=args.workload, batch=args.batch, median=median, spread_ms=spread,
             commit_ms=statistics.median(r['commit_ms'] for r in measured),
             outcome=measured[-1]['outcome'], tables=table_sizes(self.cr),
             fill_seconds=round(self.fill_seconds, 2),
             vacuum_analyze_seconds=round(self.vacuum_seconds, 2))

    def close(self):
        self.cr.close()


def task_conversation(args, registry):
    """Fill every database, then interleave the runs over the sizes (the order
    alternating from round to round) so that whatever else the machine is
    doing weighs on every size alike; then EXPLAIN, per size."""
    sizes = [int(s) for s in args.sizes.split(',')]
    names = args.dbs.split(',')
    if len(sizes) != len(names):
        raise SystemExit('--sizes and --dbs differ in length')
    instrument()
    databases = [Database(size, name) for size, name in zip(sizes, names)]
    try:
        for database in databases:
            database.fill(args)
        for run_index in range(args.warmup + args.runs):
            order = databases if run_index % 2 == 0 else databases[::-1]
            for position, database in enumerate(order):
                database.run(args, run_index, run_index >= args.warmup, position)
        for database in databases:   # not measured: EXPLAIN before every SELECT
            database.run(args, args.warmup + args.runs, False, 0, plans=True)
        for database in databases:
            database.summary(args)
            audited, texts, seq_scanned, subject_group = explain_all(
                database.cr, args.workload * args.runs, database.mailbox_id, database.templates,
                database.live_plans)
            emit(step='explain', size=database.size, statements=audited, plans=texts,
                 seq_scanned_tables=seq_scanned, biggest_subject_group=subject_group,
                 database_mb=round(database_size(database.cr) / 1e6, 1))
    finally:
        for database in databases:
            database.close()
    return 0
