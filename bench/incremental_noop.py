"""Cost of a sync run when nothing is new, for mailboxes of growing size.

    .venv/bin/python bench/incremental_noop.py [--sizes 1000,10000,50000] [--runs 10]
                                               [--distinct 500] [--keep]

Starts its own Dovecot; for each size a user whose INBOX holds that many
messages (``--distinct`` generated messages appended over and over, each copy
with its own Message-ID, MULTIAPPEND in chunks). Installs the addon into
``ecs_bench_noop``, connects one mailbox per size (lookback "all") and seeds
the database with the real first import (``devenv.run_sync --until-done``,
timed: a first-import figure for big mailboxes as a by-product). Then, in
one process with the registry loaded once (bench/odoo_tasks.py noop), times
``_sync_in_new_cursor`` ``--runs`` times per mailbox after one warm-up run,
with each folder's share (``MailboxSync._sync_folder`` wrapped in that
process, no addon file changed).

Target: < 50 ms per folder, not growing with the mailbox size.
Results: bench/results/incremental_noop-*.json.
"""
import argparse
import os
import re
import statistics
import sys
import time

import common
from common import fmt, say
from devenv.demo_mail import generate_messages

DB = 'ecs_bench_noop'
PASSWORD = 'bench-mail-pw'
TARGET_MS = 50.0
_MESSAGE_ID = re.compile(rb'^Message-ID:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*', re.IGNORECASE | re.MULTILINE)


def with_message_id(raw, message_id):
    """The message with its Message-ID header replaced (header block only)."""
    cut = raw.find(b'\r\n\r\n')
    cut = len(raw) if cut < 0 else cut
    head, body = raw[:cut], raw[cut:]
    new_head, found = _MESSAGE_ID.subn(b'Message-ID: <' + message_id.encode() + b'>', head, count=1)
    if not found:
        new_head = b'Message-ID: <' + message_id.encode() + b'>\r\n' + head
    return new_head + body


def copies(base, size, tag):
    for index in range(size):
        message = base[index % len(base)]
        yield {'msg': with_message_id(message['msg'], 'bench-%s-%d@noop.invalid' % (tag, index)),
               'flags': message['flags'], 'date': message['date']}


def raw_status_baseline(dovecot, login, repeat=10):
    """What the IMAP part costs without our code: in a fresh session (as each
    sync run has), STATUS INBOX alone, and STATUS INBOX after a LIST (what a
    sync run does: it lists the folders first). Median ms."""
    items = ['UIDVALIDITY', 'UIDNEXT', 'MESSAGES', 'HIGHESTMODSEQ']
    result = {}
    for label, list_first in (('status_ms', False), ('list_then_status_ms', True)):
        times = []
        for _ in range(repeat):
            with dovecot.imap_client(login, PASSWORD) as client:
                if list_first:
                    client.list_folders()
                started = time.perf_counter()
                client.folder_status('INBOX', items)
                times.append(1000 * (time.perf_counter() - started))
        result[label] = statistics.median(times)
    return result


def pass_summary(sizes, lines):
    """Table rows and figures of one timing pass ({size: noop task output})."""
    folder_names = []
    for size in sizes:
        for name in lines[size]['folders']:
            if name not in folder_names:
                folder_names.append(name)
    rows, worst = [], 0.0
    for size in sizes:
        line = lines[size]
        row = [size, fmt(1000 * line['median_total']), fmt(1000 * line['median_connect'])]
        for name in folder_names:
            item = line['folders'].get(name)
            row.append('%s [sql %s, STATUS %s]' % (fmt(1000 * item['median']), fmt(1000 * item['median_sql']),
                                                    fmt(1000 * item['median_status'])) if item else '-')
            if item:
                worst = max(worst, 1000 * item['median'])
        raw = line.get('raw_imap') or {}
        row += [fmt(line['median_queries'], 0), 'yes' if line['all_idle'] and not line['fetched']
                else 'NO (fetched %d)' % line['fetched'],
                '%s / %s' % (fmt(raw.get('status_ms')), fmt(raw.get('list_then_status_ms')))]
        rows.append(row)
    inbox = [1000 * lines[s]['folders']['INBOX']['median'] for s in sizes if 'INBOX' in lines[s]['folders']]
    return {'folder_names': folder_names, 'rows': rows, 'worst_folder_ms': worst,
            'inbox_growth': inbox[-1] / inbox[0] if len(inbox) > 1 and inbox[0] else None,
            'by_size': lines}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='1000,10000,50000')
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--distinct', type=int, default=500)
    parser.add_argument('--chunk', type=int, default=500, help='messages per MULTIAPPEND')
    parser.add_argument('--no-client-select', action='store_true',
                        help='skip the second pass (after a read-write SELECT of each INBOX)')
    parser.add_argument('--keep', action='store_true')
    parser.add_argument('--addon-rev', default=None,
                        help='measure the addon as committed at this git revision (default: the working tree)')
    args = parser.parse_args(argv)
    args.addon_rev = common.resolve_rev(args.addon_rev)
    sizes = [int(s) for s in args.sizes.split(',')]
    started = time.monotonic()

    run_dir = common.fresh_run_dir('noop')
    users = {'noop%d' % size: PASSWORD for size in sizes}
    dovecot = common.start_dovecot(run_dir, users)
    config = common.write_config(run_dir, addon_rev=args.addon_rev)
    results = {'sizes': sizes, 'runs': args.runs, 'distinct': args.distinct, 'mailboxes': {}}
    try:
        say('installing the addon into %s' % DB)
        install_seconds = common.install(config, DB, ['email_crm_sync'],
                                         os.path.join(run_dir, 'install.log'))
        say('installed in %.0fs' % install_seconds)
        base = [{'msg': m.raw, 'flags': m.flags, 'date': m.date}
                for m in generate_messages(args.distinct, 7, owner_name='Noop User',
                                           owner_address='noop@localhost')]
        fingerprint = common.dovecot_fingerprint(dovecot)
        mailbox_ids = {}
        for size in sizes:
            login = 'noop%d' % size
            t0 = time.monotonic()
            count, volume = common.fill(dovecot, [(login, PASSWORD)], copies(base, size, size),
                                        chunk=args.chunk)
            fill_seconds = time.monotonic() - t0
            say('%s: INBOX filled with %d messages (%.0f MB) in %.1fs'
                % (login, count, volume / 1e6, fill_seconds))
            setup = common.odoo_task(config, DB, 'setup-mailbox', '--login', login, '--password',
                                     PASSWORD, '--email', '%s@localhost' % login, '--imap-port',
                                     dovecot.imaps_port, '--fingerprint', fingerprint,
                                     '--lookback', 'all', timed=False).json_lines()[-1]
            mailbox_ids[size] = setup['mailbox_id']
            say('%s: first import (seeding the database)' % login)
            seeded = common.run_timed(common.run_sync_command(config, DB, setup['mailbox_id']),
                                      env=common.odoo_env.odoo_env(), timeout=3600).check('run_sync')
            out = seeded.json_lines()[-1]
            stored = common.sql(DB, """SELECT f.name, count(l.id) FROM email_sync_folder f
                                LEFT JOIN email_sync_message_folder l ON l.folder_id = f.id
                                WHERE f.mailbox_id = %s AND f.sync_enabled GROUP BY f.name""",
                                setup['mailbox_id'])
            results['mailboxes'][size] = {
                'login': login, 'mailbox_id': setup['mailbox_id'], 'bytes': volume,
                'fill_seconds': round(fill_seconds, 1),
                'first_import': dict(out, rate=count / out['seconds'] if out['seconds'] else None,
                                     max_rss_mb=seeded.max_rss_mb, wall=round(seeded.wall, 1)),
                'stored_links': dict(stored)}
            say('%s: first import %.1fs (%.0f msgs/s, peak %.0f MB), stored %s'
                % (login, out['seconds'], count / out['seconds'], seeded.max_rss_mb, dict(stored)))

        passes = [('as appended', 'unflagged appended mail still in maildir new/')]
        if not args.no_client_select:
            passes.append(('after a mail client opened INBOX',
                           'one read-write SELECT per mailbox first, as a mail client does'))
        results['passes'] = {}
        tables = []
        for index, (label, note) in enumerate(passes):
            if index == 1:
                # Dovecot moves maildir new/ files to cur/ only for a
                # read-write SELECT; our sync only EXAMINEs. Until some
                # client has opened the folder, every STATUS rescans new/.
                for size in sizes:
                    with dovecot.imap_client('noop%d' % size, PASSWORD) as client:
                        client.select_folder('INBOX')
            say('timing %d no-op runs per mailbox (registry loaded once): %s' % (args.runs, label))
            task_args = []
            for size in sizes:
                task_args += ['--mailbox', mailbox_ids[size]]
            noop = common.odoo_task(config, DB, 'noop', *task_args, '--runs', args.runs,
                                    '--warmup', args.warmup)
            by_mailbox = {line['mailbox']: line for line in noop.json_lines()}
            baseline = {size: raw_status_baseline(dovecot, 'noop%d' % size) for size in sizes}
            for size in sizes:
                by_mailbox[mailbox_ids[size]]['raw_imap'] = baseline[size]
            summary = pass_summary(sizes, {size: by_mailbox[mailbox_ids[size]] for size in sizes})
            summary['note'] = note
            results['passes'][label] = summary
            tables.append((label, note, summary))
        results['target_ms'] = TARGET_MS
        last = tables[-1][2]
        results['worst_folder_median_ms'] = last['worst_folder_ms']
        results['inbox_growth'] = last['inbox_growth']
        results['total_seconds'] = round(time.monotonic() - started, 1)
        path = common.save_results('incremental_noop', results, args.addon_rev)

        for label, note, summary in tables:
            print()
            print('Sync run with nothing new, %s (%s): median of %d runs after %d warm-up, one process'
                  % (label, note, args.runs, args.warmup))
            print(common.table(['INBOX msgs', 'run ms', 'connect+login ms']
                               + ['%s ms' % n for n in summary['folder_names']]
                               + ['SQL/run', 'idle, nothing fetched',
                                  'bare STATUS / LIST+STATUS ms'], summary['rows']))
            for size in sizes:
                inbox = summary['by_size'][size]['folders'].get('INBOX')
                if inbox:
                    print('  %6d: INBOX slowest statement: %s, median %.1f ms'
                          % (size, inbox['slowest_sql'], 1000 * inbox['median_slowest_sql']))
            print('  worst folder median %.1f ms (target < %.0f ms): %s; INBOX x%.2f from %d to %d messages'
                  % (summary['worst_folder_ms'], TARGET_MS,
                     'met' if summary['worst_folder_ms'] < TARGET_MS else 'MISSED',
                     summary['inbox_growth'] or 0, sizes[0], sizes[-1]))
        print('(per folder: median wall ms of MailboxSync._sync_folder with its SQL time and its IMAP '
              'STATUS round trip; the rest of a run is connect+login, LIST, folder bookkeeping.\n'
              ' bare: imapclient alone in a fresh session, STATUS INBOX without and after a LIST)')
        print()
        print('first import while seeding:')
        print(common.table(
            ['INBOX msgs', 'seconds', 'msgs/s', 'peak MB'],
            [[s, fmt(results['mailboxes'][s]['first_import']['seconds']),
              fmt(results['mailboxes'][s]['first_import']['rate']),
              fmt(results['mailboxes'][s]['first_import']['max_rss_mb'])] for s in sizes]))
        print()
        print('total %.0fs; results: %s' % (results['total_seconds'], path))
        return 0
    finally:
        if not args.keep:
            dovecot.stop()
            common.drop(config, DB)
            say('Dovecot stopped, database dropped')


if __name__ == '__main__':
    sys.exit(main())
