"""Benchmark steps that need Odoo loaded, each run in a process of its own:

    python bench/odoo_tasks.py --config C --db D TASK [options]

Tasks (each prints JSON lines on stdout):

setup-mailbox   a salesperson (group_user) owning a mailbox on the bench Dovecot,
                connection tested (folders listed)
set-param       ir.config_parameter key=value
fetchmail       Odoo 11's own fetchmail: an IMAP fetchmail.server creating crm.lead
                records, fetch_mail() timed
sync            the addon's sync of one mailbox until done (what devenv.run_sync does),
                instrumented: SQL queries and time, IMAP fetch time, MIME parse time,
                record creation time; optionally under cProfile
noop            N timed calls of _sync_in_new_cursor on mailboxes that are in sync
                (the registry loaded once), with per-folder times
conversation    fill a database with N stored emails in threads (SQL), then time storing
                new emails through MailboxSync._store_batch, with ConversationBuilder.add
                apart (bench/conversation_task.py)
pixel-setup     a salesperson's N sent emails with open tracking (nonces) and a small
                public PNG attachment, for bench/pixel_rps.py (bench/pixel_task.py)

The instrumentation wraps functions in this process only; no addon file is
changed.
"""
import argparse
import collections
import cProfile
import functools
import io
import json
import logging
import pstats
import re
import statistics
import sys
import time
import traceback
import tracemalloc

import odoo
from odoo.api import Environment

import conversation_task  # bench/ is sys.path[0] when this file runs as a script
import pixel_task


def emit(**values):
    print(json.dumps(values, default=str), flush=True)


# -- instrumentation ---------------------------------------------------------------

class Meter:
    """Counts calls and sums the wall time of wrapped functions."""

    def __init__(self):
        self.calls = {}
        self.seconds = {}

    def reset(self):
        self.calls.clear()
        self.seconds.clear()

    def add(self, name, seconds):
        self.calls[name] = self.calls.get(name, 0) + 1
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def wrap(self, owner, attribute, name=None):
        """Time calls of owner.attribute; a no-op when the addon no longer has it."""
        name = name or attribute
        original = getattr(owner, attribute, None)
        if original is None:
            return None
        meter = self

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                meter.add(name, time.perf_counter() - started)

        setattr(owner, attribute, wrapper)
        return original

    def summary(self):
        return {name: {'calls': self.calls[name], 'seconds': round(self.seconds[name], 4)}
                for name in sorted(self.seconds, key=lambda n: -self.seconds[n])}


METER = Meter()


SQL_KINDS = {}     # "UPDATE email_sync_message" -> [count, seconds]
_SQL_KIND = re.compile(r'^\s*(?:(SELECT)\b.*?\bFROM\s+"?(\w+)|(INSERT)\s+INTO\s+"?(\w+)|(UPDATE)\s+"?(\w+)'
                       r'|(DELETE)\s+FROM\s+"?(\w+)|(\w+))', re.IGNORECASE | re.DOTALL)


def _sql_kind(query):
    if isinstance(query, bytes):
        query = query.decode('utf-8', 'replace')
    match = _SQL_KIND.match(str(query)[:2000])
    if not match:
        return '?'
    parts = [g for g in match.groups() if g]
    return ' '.join([parts[0].upper()] + parts[1:2])


SQL_STACK_KINDS = set()                  # statement kinds whose callers are recorded
SQL_STACKS = collections.Counter()       # (kind, call path) -> count


def _stack_signature(depth=5):
    """The innermost Python frames of interest (addon and Odoo, not the SQL layer)."""
    frames = []
    for frame in reversed(traceback.extract_stack(limit=40)[:-3]):
        name = frame.filename
        if 'sql_db.py' in name or 'odoo_tasks.py' in name or 'decorator-gen' in name \
                or 'contextlib.py' in name or name.endswith('api.py'):
            continue
        short = name.split('site-packages/')[-1].split('odoo-addons/')[-1].split('addon-src/')[-1]
        frames.append('%s:%d %s' % (short, frame.lineno, frame.name))
        if len(frames) >= depth:
            break
    return ' < '.join(frames)


def instrument_sql():
    """Count and time every query, overall and by statement kind and table."""
    original = odoo.sql_db.Cursor.execute

    @functools.wraps(original)
    def execute(self, query, params=None, log_exceptions=None):
        started = time.perf_counter()
        try:
            return original(self, query, params, log_exceptions)
        finally:
            seconds = time.perf_counter() - started
            METER.add('sql', seconds)
            kind = _sql_kind(query)
            entry = SQL_KINDS.setdefault(kind, [0, 0.0])
            entry[0] += 1
            entry[1] += seconds
            if kind in SQL_STACK_KINDS:
                SQL_STACKS[(kind, _stack_signature())] += 1

    odoo.sql_db.Cursor.execute = execute


def sql_kinds(top=15):
    ranked = sorted(SQL_KINDS.items(), key=lambda item: -item[1][1])[:top]
    return [{'kind': kind, 'calls': calls, 'seconds': round(seconds, 4)}
            for kind, (calls, seconds) in ranked]


def instrument_sync():
    from odoo.addons.email_crm_sync.lib import imap_folder, imap_session, mime_parser
    from odoo.addons.email_crm_sync.sync import mailbox_sync
    METER.wrap(imap_session, 'open_session', 'imap_connect_login')
    METER.wrap(imap_folder.FolderReader, 'status', 'imap_status')
    METER.wrap(imap_folder.FolderReader, 'open', 'imap_examine')
    METER.wrap(imap_folder.FolderReader, '_fetch_complete', 'imap_fetch')
    METER.wrap(imap_folder.FolderReader, 'search_uids', 'imap_search')
    METER.wrap(imap_folder.FolderReader, 'all_uids', 'imap_search_all')
    METER.wrap(mime_parser, 'parse_message', 'mime_parse')
    METER.wrap(mailbox_sync.MailboxSync, '_store_batch', 'store_batch_total')
    METER.wrap(mailbox_sync.MailboxSync, '_audit', 'audit_total')
    from odoo.addons.email_crm_sync.models import email_sync_message
    METER.wrap(email_sync_message.EmailSyncMessage, '_create_from_parsed',
               'create_message_total')
    METER.wrap(email_sync_message.EmailSyncMessage, '_create_many_from_parsed',
               'create_messages_total')
    from odoo.addons.base.ir import ir_attachment
    METER.wrap(ir_attachment.IrAttachment, 'create', 'attachment_create_total')
    METER.wrap(odoo.fields, 'html_sanitize', 'html_sanitize')


def load(args):
    odoo.tools.config.parse_config(['--config=%s' % args.config, '--log-level=%s' % args.log_level])
    return odoo.registry(args.db)


# -- tasks ----------------------------------------------------------------------------

def task_setup_mailbox(args, registry):
    with Environment.manage(), registry.cursor() as cr:
        env = Environment(cr, odoo.SUPERUSER_ID, {})
        group = env.ref('base.group_user')
        user = env['res.users'].with_context(no_reset_password=True).create({
            'name': args.login.title(), 'login': args.login, 'password': args.login + '-pw',
            'email': args.email, 'groups_id': [(6, 0, [group.id])]})
        custom = env.ref('email_crm_sync.email_sync_provider_custom')
        mailbox = env['email.sync.mailbox'].sudo(user).create({
            'name': 'Bench %s' % args.login, 'email': args.email, 'provider_id': custom.id,
            'imap_host': '127.0.0.1', 'imap_port': args.imap_port, 'imap_security': 'ssl',
            'login': args.login, 'password': args.password, 'lookback': args.lookback})
        mailbox.sudo().write({'tls_trusted_fingerprint': args.fingerprint})
        mailbox.action_test_connection()
        cr.commit()
        mailbox = mailbox.sudo()
        emit(user_id=user.id, mailbox_id=mailbox.id, state=mailbox.state,
             last_error=mailbox.last_error,
             folders={f.name: f.sync_enabled for f in mailbox.folder_ids})
        if mailbox.state != 'ok':
            return 1
    return 0


def task_set_param(args, registry):
    with Environment.manage(), registry.cursor() as cr:
        env = Environment(cr, odoo.SUPERUSER_ID, {})
        for pair in args.pairs:
            key, _sep, value = pair.partition('=')
            env['ir.config_parameter'].sudo().set_param(key, value)
        cr.commit()
    emit(done=True)
    return 0


def task_fetchmail(args, registry):
    fetched = {}

    class Catch(logging.Handler):
        def emit(self, record):
            if record.getMessage().startswith('Fetched '):
                fetched['log'] = record.getMessage()

    fetch_logger = logging.getLogger('odoo.addons.fetchmail.models.fetchmail')
    fetch_logger.setLevel(logging.INFO)
    fetch_logger.addHandler(Catch())
    instrument_sql()
    with Environment.manage(), registry.cursor() as cr:
        env = Environment(cr, odoo.SUPERUSER_ID, {})
        server = env['fetchmail.server'].create({
            'name': 'Bench IMAP', 'server': '127.0.0.1', 'port': args.port, 'type': 'imap',
            'is_ssl': True, 'user': args.login, 'password': args.password,
            'object_id': env['ir.model']._get('crm.lead').id, 'attach': True, 'original': False,
        })
        server.button_confirm_login()
        cr.commit()
        leads_before = env['crm.lead'].search_count([])
        METER.reset()
        SQL_KINDS.clear()
        profiler = cProfile.Profile() if args.profile else None
        started = time.monotonic()
        if profiler:
            profiler.enable()
        server.fetch_mail()
        if profiler:
            profiler.disable()
        seconds = time.monotonic() - started
        cr.commit()
        leads = env['crm.lead'].search_count([]) - leads_before
        cr.execute("SELECT count(*) FROM mail_message WHERE model = 'crm.lead' AND message_type = 'email'")
        messages = cr.fetchone()[0]
    emit(seconds=round(seconds, 3), leads_created=leads, lead_email_messages=messages,
         fetch_log=fetched.get('log'), sql_queries=METER.calls.get('sql', 0),
         sql_seconds=round(METER.seconds.get('sql', 0.0), 3), sql_kinds=sql_kinds(8))
    if profiler:
        emit(profile=_profile_text(profiler, args.profile_lines))
    return 0


def task_sync(args, registry):
    SQL_STACK_KINDS.update(args.sql_callers or ())
    if not args.profile:  # cProfile sees everything; the wrappers would only add noise
        instrument_sql()
        instrument_sync()
    with Environment.manage(), registry.cursor() as cr:
        env = Environment(cr, odoo.SUPERUSER_ID, {})
        mailbox = env['email.sync.mailbox'].browse(args.mailbox)
        METER.reset()
        SQL_KINDS.clear()
        profiler = cProfile.Profile() if args.profile else None
        if args.tracemalloc:
            tracemalloc.start()
        started = time.monotonic()
        runs = 0
        while True:
            if profiler:
                profiler.enable()
            finished = mailbox._sync_in_new_cursor(args.budget)
            if profiler:
                profiler.disable()
            runs += 1
            if args.tracemalloc:
                snapshot = tracemalloc.take_snapshot()
                emit(tracemalloc_top=[
                    '%s: %.1f MB in %d blocks' % (stat.traceback[0], stat.size / 1e6, stat.count)
                    for stat in snapshot.statistics('lineno')[:args.tracemalloc]])
            # What the run left in the shared record cache (before the
            # invalidate below empties it, as devenv.run_sync does too).
            cache = Environment.envs.cache._data
            cached = {'fields': len(cache), 'values': sum(len(v) for v in cache.values()),
                      'email_sync_message_records': len(
                          cache.get(env['email.sync.message']._fields['body_text'], {})),
                      'rss_mb': round(_rss_mb(), 1),
                      'top_fields': sorted(((str(field), len(values)) for field, values in cache.items()),
                                           key=lambda item: -item[1])[:8]}
            cr.commit()
            mailbox.invalidate_cache()
            if finished or finished is None or not args.until_done \
                    or mailbox.state in ('error', 'auth_failed'):
                break
        seconds = time.monotonic() - started
        cr.execute('SELECT count(*) FROM email_sync_message WHERE mailbox_id = %s', (mailbox.id,))
        stored = cr.fetchone()[0]
        emit(mailbox=mailbox.id, finished=finished, state=mailbox.state, runs=runs,
             rss_mb_at_end=round(_rss_mb(), 1), env_cache_after_last_run=cached,
             seconds=round(seconds, 3), stored_messages=stored, breakdown=METER.summary(),
             sql_kinds=sql_kinds(),
             sql_callers=[{'kind': kind, 'calls': n, 'path': path}
                          for (kind, path), n in SQL_STACKS.most_common(12)])
    if profiler:
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
        emit(profile=_profile_text(profiler, args.profile_lines))
    return 0


def task_noop(args, registry):
    """Median of N sync runs with nothing new, per mailbox and per folder."""
    from odoo.addons.email_crm_sync.lib import imap_session, sync_plan
    from odoo.addons.email_crm_sync.sync import mailbox_sync
    instrument_sql()
    per_folder = []     # (folder name, seconds, idle) of the current run
    plans = {}

    original_sync_folder = mailbox_sync.MailboxSync._sync_folder

    def timed_sync_folder(self, session, folder, audit):
        started = time.perf_counter()
        queries = METER.calls.get('sql', 0)
        sql_before = METER.seconds.get('sql', 0.0)
        status_before = METER.seconds.get('status', 0.0)
        kinds_before = {kind: entry[1] for kind, entry in SQL_KINDS.items()}
        try:
            return original_sync_folder(self, session, folder, audit)
        finally:
            slowest = max(SQL_KINDS, key=lambda k: SQL_KINDS[k][1] - kinds_before.get(k, 0.0))
            per_folder.append({
                'name': folder.name, 'seconds': time.perf_counter() - started,
                'queries': METER.calls.get('sql', 0) - queries, 'idle': plans.get('last'),
                'sql_seconds': METER.seconds.get('sql', 0.0) - sql_before,
                'status_seconds': METER.seconds.get('status', 0.0) - status_before,
                'slowest_sql': slowest,
                'slowest_sql_seconds': SQL_KINDS[slowest][1] - kinds_before.get(slowest, 0.0)})

    original_plan = sync_plan.plan_folder

    def recorded_plan(stored, status):
        plan = original_plan(stored, status)
        plans['last'] = plan.idle
        return plan

    mailbox_sync.MailboxSync._sync_folder = timed_sync_folder
    mailbox_sync.sync_plan.plan_folder = recorded_plan
    from odoo.addons.email_crm_sync.lib import imap_folder
    METER.wrap(imap_session, 'open_session', 'connect')
    METER.wrap(imap_folder.FolderReader, 'status', 'status')
    fetched_total = {'n': 0}
    original_store = mailbox_sync.MailboxSync._store_batch

    def counting_store(self, folder, batch):
        fetched_total['n'] += len(batch)
        return original_store(self, folder, batch)

    mailbox_sync.MailboxSync._store_batch = counting_store

    with Environment.manage(), registry.cursor() as cr:
        env = Environment(cr, odoo.SUPERUSER_ID, {})
        for mailbox_id in args.mailbox:
            mailbox = env['email.sync.mailbox'].browse(mailbox_id)
            runs = []
            SQL_KINDS.clear()
            for index in range(args.warmup + args.runs):
                per_folder.clear()
                METER.reset()
                if index == args.warmup:
                    SQL_KINDS.clear()
                fetched_total['n'] = 0
                started = time.perf_counter()
                finished = mailbox._sync_in_new_cursor(60)
                total = time.perf_counter() - started
                cr.commit()
                mailbox.invalidate_cache()
                if index < args.warmup:
                    continue
                runs.append({'total': total, 'finished': finished,
                             'connect': METER.seconds.get('connect', 0.0),
                             'queries': METER.calls.get('sql', 0),
                             'sql_seconds': METER.seconds.get('sql', 0.0),
                             'fetched': fetched_total['n'],
                             'folders': list(per_folder)})
            cr.execute("""SELECT f.name, count(l.id) FROM email_sync_folder f
                          LEFT JOIN email_sync_message_folder l ON l.folder_id = f.id
                          WHERE f.mailbox_id = %s GROUP BY f.name""", (mailbox_id,))
            stored = dict(cr.fetchall())
            folder_names = [f['name'] for f in runs[0]['folders']] if runs else []

            emit(mailbox=mailbox_id, runs=len(runs),
                 all_finished=all(r['finished'] for r in runs),
                 all_idle=all(f['idle'] for r in runs for f in r['folders']),
                 fetched=sum(r['fetched'] for r in runs),
                 median_total=statistics.median(r['total'] for r in runs),
                 min_total=min(r['total'] for r in runs), max_total=max(r['total'] for r in runs),
                 median_connect=statistics.median(r['connect'] for r in runs),
                 median_queries=statistics.median(r['queries'] for r in runs),
                 median_sql_seconds=statistics.median(r['sql_seconds'] for r in runs),
                 folders={name: {
                     'stored': stored.get(name, 0),
                     'median': statistics.median(
                         f['seconds'] for r in runs for f in r['folders'] if f['name'] == name),
                     'max': max(f['seconds'] for r in runs for f in r['folders'] if f['name'] == name),
                     'median_queries': statistics.median(
                         f['queries'] for r in runs for f in r['folders'] if f['name'] == name),
                     'median_sql': statistics.median(
                         f['sql_seconds'] for r in runs for f in r['folders'] if f['name'] == name),
                     'median_status': statistics.median(
                         f['status_seconds'] for r in runs for f in r['folders'] if f['name'] == name),
                     'slowest_sql': collections.Counter(
                         f['slowest_sql'] for r in runs for f in r['folders']
                         if f['name'] == name).most_common(1)[0][0],
                     'median_slowest_sql': statistics.median(
                         f['slowest_sql_seconds'] for r in runs for f in r['folders'] if f['name'] == name),
                 } for name in folder_names},
                 sql_kinds_per_run=[dict(k, calls=k['calls'] / len(runs), seconds=k['seconds'] / len(runs))
                                    for k in sql_kinds(12)],
                 raw_runs=runs)
    return 0


def _rss_mb():
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return 0.0


def _profile_text(profiler, lines):
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats('cumulative').print_stats(lines)
    stats.sort_stats('tottime').print_stats(lines)
    # What storing a message is made of, and who sanitises HTML.
    stats.sort_stats('cumulative')
    stats.print_callees(r'\(_store_batch\)')
    stats.print_callees(r'\(_create_from_parsed\)')
    stats.print_callees(r'ir_attachment.py:\d+\(create\)')
    stats.print_callers(r'\(html_sanitize\)')
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', required=True)
    parser.add_argument('--db', required=True)
    parser.add_argument('--log-level', default='warn')
    sub = parser.add_subparsers(dest='task', required=True)

    p = sub.add_parser('setup-mailbox')
    p.add_argument('--login', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--email', required=True)
    p.add_argument('--imap-port', type=int, required=True)
    p.add_argument('--fingerprint', required=True)
    p.add_argument('--lookback', default='all')

    p = sub.add_parser('set-param')
    p.add_argument('pairs', nargs='+')

    p = sub.add_parser('fetchmail')
    p.add_argument('--login', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--profile', action='store_true')
    p.add_argument('--profile-lines', type=int, default=40)

    p = sub.add_parser('sync')
    p.add_argument('--mailbox', type=int, required=True)
    p.add_argument('--budget', type=float, default=3600)
    p.add_argument('--until-done', action='store_true')
    p.add_argument('--profile', action='store_true')
    p.add_argument('--profile-lines', type=int, default=40)
    p.add_argument('--profile-out', help='also dump the raw cProfile stats (pstats) here')
    p.add_argument('--sql-callers', action='append', metavar='KIND',
                   help='record who runs statements of this kind, e.g. "SELECT email_sync_message"')
    p.add_argument('--tracemalloc', type=int, default=0, metavar='N',
                   help='report the N biggest allocation sites still alive after each run')

    p = sub.add_parser('noop')
    p.add_argument('--mailbox', type=int, action='append', required=True)
    p.add_argument('--runs', type=int, default=10)
    p.add_argument('--warmup', type=int, default=1)

    p = sub.add_parser('conversation')
    conversation_task.add_arguments(p)

    p = sub.add_parser('pixel-setup')
    pixel_task.add_arguments(p)

    args = parser.parse_args(argv)
    registry = load(args)
    task = {'setup-mailbox': task_setup_mailbox, 'set-param': task_set_param,
            'fetchmail': task_fetchmail, 'sync': task_sync, 'noop': task_noop,
            'conversation': conversation_task.task_conversation,
            'pixel-setup': pixel_task.task_pixel_setup}[args.task]
    return task(args, registry)


if __name__ == '__main__':
    sys.exit(main())
