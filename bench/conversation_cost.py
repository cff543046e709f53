"""Cost of threading, contact matching and deal linking of new emails, with
10k and 100k emails already stored.

    .venv/bin/python bench/conversation_cost.py [--sizes 10000,100000] [--workload 500] [--batch 100]
                                                [--runs 3] [--warmup 1] [--attachments 0.1]
                                                [--keep] [--addon-rev HEAD]

Installs the addon into ``ecs_bench_conv_template`` and clones it to
``ecs_bench_conv_<size>`` per size. Then one process (bench/odoo_tasks.py
conversation, code in bench/conversation_task.py), per database: creates a
salesperson with a mailbox (INBOX, Sent; no IMAP server) and fills it with
SQL (COPY): ``size`` stored emails (about 7 % filtered internal mail, the
rest in threads of 1-8 messages), size/4 contacts, some additional
addresses, deals; VACUUM ANALYZE. Then, in the
same process, ``--warmup`` + ``--runs`` rounds: in each, every database
stores the same mix of ``--workload`` new emails (fresh Message-IDs each
round) in batches of ``--batch`` through ``MailboxSync._store_batch``,
committing after each batch as the sync does; the databases take turns, in
an order alternating from round to round, so that other load on the
machine weighs on every size alike.
Reports per email the median wall time and SQL statements of the whole
store step and of ``ConversationBuilder.add`` (and of the steps inside),
the ratio between the largest and the smallest size, where the workload's
emails landed, the plans of the lookups as they ran (an extra unmeasured
round), and EXPLAIN ANALYZE of every SELECT the workload ran (index
use; full plans of the thread-key and subject lookups at the largest size).

Claim under test: the cost of an email does not grow with the number of
emails stored (ratio largest/smallest close to 1; target < 1.5).
Results: bench/results/conversation_cost-*.json.
"""
import argparse
import os
import statistics
import sys
import time

import common
from common import fmt, say

TEMPLATE = 'ecs_bench_conv_template'
TARGET_RATIO = 1.5
# Steps as nested in the code (name, label, depth).
STEPS = (
    ('store', 'MailboxSync._store_batch (all of it)', 0),
    ('parse', 'MIME parsing', 1),
    ('create_rows', 'email rows (+ attachments)', 1),
    ('conversations', 'ConversationBuilder.add', 1),
    ('place', 'threading (_place)', 2),
    ('key_lookup', 'thread-key lookup', 3),
    ('subject_lookup', 'subject lookup', 3),
    ('new_thread', 'new thread', 3),
    ('update_thread', 'thread update', 3),
    ('link_contacts', 'contacts (link_thread)', 2),
    ('partners_for', 'find + create contacts', 3),
    ('contact_find', '_email_sync_find', 4),
    ('contact_create', 'res.partner create', 4),
    ('deals', 'deals (_auto_link_deals)', 2),
    ('folder_links', 'folder links', 1),
)


def db_name(size):
    return 'ecs_bench_conv_%d' % size


def ratio(a, b):
    return b / a if a else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='10000,100000')
    parser.add_argument('--workload', type=int, default=500)
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--attachments', type=float, default=0.1)
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--keep', action='store_true')
    parser.add_argument('--addon-rev', default=None,
                        help='measure the addon as committed at this git revision (default: the working tree)')
    args = parser.parse_args(argv)
    args.addon_rev = common.resolve_rev(args.addon_rev)
    sizes = sorted(int(s) for s in args.sizes.split(','))
    started = time.monotonic()

    run_dir = common.fresh_run_dir('conversation')
    config = common.write_config(run_dir, addon_rev=args.addon_rev)
    created = [TEMPLATE]
    results = {'sizes': sizes, 'workload': args.workload, 'batch': args.batch, 'runs': args.runs,
               'warmup': args.warmup, 'attachments': args.attachments, 'seed': args.seed,
               'by_size': {}}
    try:
        say('installing the addon into %s' % TEMPLATE)
        seconds = common.install(config, TEMPLATE, ['email_crm_sync'], os.path.join(run_dir, 'install.log'))
        say('installed in %.0fs' % seconds)
        for size in sizes:
            common.clone(config, TEMPLATE, db_name(size))
            created.append(db_name(size))
        say('one process: fill %s, then %d+%d rounds of %d new emails per database'
            % (', '.join('%s (%d emails)' % (db_name(s), s) for s in sizes), args.warmup, args.runs,
               args.workload))
        done = common.odoo_task(config, db_name(sizes[0]), 'conversation',
                                '--sizes', ','.join(str(s) for s in sizes),
                                '--dbs', ','.join(db_name(s) for s in sizes),
                                '--workload', args.workload, '--batch', args.batch,
                                '--runs', args.runs, '--warmup', args.warmup,
                                '--attachments', args.attachments, '--seed', args.seed,
                                timeout=7200)
        results['process'] = {'wall': round(done.wall, 1), 'max_rss_mb': done.max_rss_mb}
        for size in sizes:
            results['by_size'][size] = {'runs': []}
        for line in done.json_lines():
            entry = results['by_size'][line['size']]
            if line['step'] == 'run':
                entry['runs'].append(line)
            else:
                entry[line['step']] = line
        for size in sizes:
            entry = results['by_size'][size]
            say('%s: filled in %.1fs (+ VACUUM ANALYZE %.1fs); store %.2f ms/email, '
                'ConversationBuilder.add %.2f ms/email'
                % (db_name(size), entry['fill']['fill_seconds'], entry['fill']['vacuum_analyze_seconds'],
                   entry['summary']['median']['store']['ms'],
                   entry['summary']['median']['conversations']['ms']))
        say('process: %.0fs, peak RSS %.0f MB' % (done.wall, done.max_rss_mb or 0))
        results['total_seconds'] = round(time.monotonic() - started, 1)
        small, large = sizes[0], sizes[-1]
        med = {s: results['by_size'][s]['summary']['median'] for s in sizes}
        results['ratio'] = {name: ratio(med[small].get(name, {}).get('ms'), med[large].get(name, {}).get('ms'))
                            for name, _label, _depth in STEPS}
        # Round by round (both sizes measured within seconds of each other).
        results['paired_ratio'] = {}
        for name in ('store', 'conversations'):
            pairs = [ratio(a['steps'][name]['ms'], b['steps'][name]['ms'])
                     for a, b in zip(results['by_size'][small]['runs'], results['by_size'][large]['runs'])
                     if a['measured'] and b['measured']]
            results['paired_ratio'][name] = {'median': statistics.median(pairs), 'rounds': pairs}
        results['target_ratio'] = TARGET_RATIO
        report(results, sizes, args)
        path = common.save_results('conversation_cost', results, args.addon_rev)
        print()
        print('total %.0fs; results: %s' % (results['total_seconds'], path))
        return 0
    finally:
        if not args.keep:
            common.drop(config, *created)
            say('databases dropped')


def report(results, sizes, args):
    by_size = results['by_size']
    small, large = sizes[0], sizes[-1]

    print()
    print('Database per size (filled with SQL, then VACUUM ANALYZE)')
    rows = []
    for size in sizes:
        c = by_size[size]['fill']['counts']
        t = by_size[size]['summary']['tables']
        rows.append([size, c['threads'], c['thread_keys'], c['contacts'] + c['companies'],
                     c['additional_addresses'], c['attachments'],
                     '%d/%d/%d' % (c['deals_open'], c['deals_won'], c['deals_lost']),
                     c['largest_subject_key_group'], fmt(by_size[size]['fill']['fill_seconds']),
                     fmt(t['email_sync_message']['mb'], 0), fmt(by_size[size]['explain']['database_mb'], 0)])
    print(common.table(['stored emails', 'threads', 'thread keys', 'partners', 'extra addresses',
                        'attachments', 'deals open/won/lost', 'biggest subject group', 'fill s', 'email table MB',
                        'database MB'], rows))
    for size in sizes:
        defaulted = by_size[size]['fill'].get('defaulted_columns')
        if defaulted:
            print('  %d: required columns the fill wrote with the sync\'s value or the field default: %s'
                  % (size, '; '.join('%s %s' % (t, c) for t, c in sorted(defaulted.items()))))

    for size in sizes:
        print()
        print('%d stored emails: %d measured runs of %d new emails (batches of %d), after %d warm-up; '
              'position: when in its round it ran' % (size, args.runs, args.workload, args.batch, args.warmup))
        rows = []
        for run in by_size[size]['runs']:
            if run.get('plans'):
                continue   # the extra round that EXPLAINs before every statement
            s = run['steps']
            rows.append(['%d%s' % (run['run'], '' if run['measured'] else ' (warm-up)'), run['order'] + 1,
                         fmt(s['store']['ms'], 2), fmt(s['conversations']['ms'], 2),
                         fmt(s['store']['queries'], 1), fmt(s['conversations']['queries'], 1),
                         fmt(run['commit_ms'], 2), ' '.join('%.0f' % b for b in run['batch_ms'])])
        m = by_size[size]['summary']['median']
        rows.append(['median', '', fmt(m['store']['ms'], 2), fmt(m['conversations']['ms'], 2),
                     fmt(m['store']['queries'], 1), fmt(m['conversations']['queries'], 1),
                     fmt(by_size[size]['summary']['commit_ms'], 2), ''])
        print(common.table(['run', 'position', 'store ms/email', 'add ms/email', 'SQL/email store', 'SQL/email add',
                            'commit ms/email', 'ms per batch'], rows))

    print()
    print('Per new email, median of %d runs: wall ms [SQL statements]; ratio = %d / %d stored'
          % (args.runs, large, small))
    rows = []
    for name, label, depth in STEPS:
        row = ['  ' * depth + label]
        for size in sizes:
            item = by_size[size]['summary']['median'].get(name)
            row.append('%s [%s]' % (fmt(item['ms'], 3), fmt(item['queries'], 2)) if item else '-')
        r = results['ratio'].get(name)
        row.append(fmt(r, 2) + 'x' if r else '-')
        rows.append(row)
    print(common.table(['step'] + ['%d stored' % s for s in sizes] + ['ratio'], rows))
    for name, what in (('store', 'whole store step'), ('conversations', 'ConversationBuilder.add')):
        r = results['ratio'][name]
        paired = results['paired_ratio'][name]
        print('  %s: %d -> %d stored emails x%.2f (target < %.1f): %s; round by round: %s'
              % (what, small, large, r, TARGET_RATIO, 'met' if r < TARGET_RATIO else 'MISSED',
                 ' '.join('%.2f' % p for p in paired['rounds'])))

    print()
    print('Where the workload landed (last measured run; "as expected": the thread it must join,')
    print('a new thread, or its pair\'s thread)')
    kinds = list(by_size[large]['summary']['outcome'])
    rows = []
    for kind in kinds:
        row = [kind]
        for size in sizes:
            o = by_size[size]['summary']['outcome'].get(kind, {})
            extra = ', contact created %d' % o['contact_created'] if 'contact_created' in o else ''
            row.append('%d/%d%s' % (o.get('as_expected', 0), o.get('emails', 0), extra))
        rows.append(row)
    print(common.table(['kind'] + ['%d stored' % s for s in sizes], rows))

    # Statements: time per call at each size, and their plans.
    statements = {s: {st['key']: st for st in by_size[s]['explain']['statements']} for s in sizes}
    top = sorted(statements[large].values(), key=lambda st: -st['ms_per_email'])[:15]
    print()
    print('SQL statements of the measured runs, by time per new email at %d stored (mean ms per call)'
          % large)
    rows = []
    for st in top:
        row = [st['query'][:90], fmt(st['calls_per_email'], 2)]
        for size in sizes:
            other = statements[size].get(st['key'])
            row.append(fmt(other['mean_ms'], 3) if other else '-')
        first = statements[small].get(st['key'])
        row.append(fmt(ratio(first['mean_ms'], st['mean_ms']), 2) + 'x' if first and first['mean_ms'] else '-')
        rows.append(row)
    print(common.table(['statement', 'calls/email'] + ['%d ms' % s for s in sizes] + ['ratio'], rows))
    growing = [st for st in statements[large].values()
               if statements[small].get(st['key']) and st['ms_per_email'] > 0.02
               and (ratio(statements[small][st['key']]['mean_ms'], st['mean_ms']) or 0) > 1.5]
    if growing:
        print('  statements > 1.5x slower per call at %d (and > 0.02 ms per email):' % large)
        for st in growing:
            print('   - %.3f -> %.3f ms, %.2f calls/email: %s\n       plan at %d: %s'
                  % (statements[small][st['key']]['mean_ms'], st['mean_ms'], st['calls_per_email'],
                     st['query'], large, '; '.join(st.get('scans') or ['(not a SELECT)'])))

    print()
    print('Index use (EXPLAIN ANALYZE of each SELECT the workload ran, with its longest parameters):')
    for size in sizes:
        sts = by_size[size]['explain']['statements']
        explained = [st for st in sts if 'scans' in st]
        flagged = [st for st in explained if st.get('flags')]
        print('  %d stored: %d statements explained, %d with a sequential scan of a table over %d rows '
              'or > 1000 rows filtered out' % (size, len(explained), len(flagged), 2000))
        for st in flagged:
            print('   - %s\n       %s; %.2f calls/email, %.3f ms/call'
                  % (st['query'], '; '.join(st['flags']), st['calls_per_email'], st['mean_ms']))
    # A sequential scan matters when its table grows with the mailbox, whatever its size today.
    rows_small = by_size[small]['explain'].get('seq_scanned_tables', {})
    rows_large = by_size[large]['explain'].get('seq_scanned_tables', {})
    growing = []
    for st in by_size[large]['explain']['statements']:
        for relation in st.get('seq_scans', ()):
            before = rows_small.get(relation)
            if before is None:
                before = by_size[small]['summary']['tables'].get(relation, {}).get('rows')
            after = rows_large.get(relation, 0)
            if after > 100 and (before is None or after > 1.5 * max(before, 1)):
                growing.append((relation, before, after, st))
    results['seq_scans_of_growing_tables'] = [
        {'table': r, 'rows_small': b, 'rows_large': a, 'query': st['query'],
         'index_available': r not in st.get('no_index_for', ()),
         'plan_without_seqscan': st.get('without_seqscan')} for r, b, a, st in growing]
    print('  sequential scans at %d stored of a table that grows (rows %d -> %d stored): %s'
          % (large, small, large, 'none' if not growing else ''))
    for relation, before, after, st in growing:
        no_index = relation in st.get('no_index_for', ())
        print('   - %s (%s -> %d rows), %s: %s\n       with enable_seqscan off: %s'
              % (relation, before, after, 'NO INDEX IT COULD USE' if no_index else 'an index exists',
                 st['query'], '; '.join(st.get('without_seqscan') or ['?'])))
    print()
    print('Plans as the lookups of storing an email ran (EXPLAIN ANALYZE right before the statement, in an')
    print('extra unmeasured round, with its longest parameters): scans [ms, buffers]')
    roles = [st for st in by_size[large]['explain']['statements'] if st.get('role')]
    for st in roles:
        print('  %s: %s' % (st['role'], st['query'][:110]))
        for size in sizes:
            other = statements[size].get(st['key'], {})
            print('    %7d: %s [%s ms, %s buffers]' % (
                size, '; '.join(other.get('live_scans') or ['-']), fmt(other.get('live_ms'), 3),
                other.get('live_buffers')))
    print()
    print('Subject lookup of the biggest subject-key group the sync looks up (median of 7 EXPLAIN ANALYZE):')
    rows = []
    for size in sizes:
        group = by_size[size]['explain'].get('biggest_subject_group') or {}
        rows.append([size, repr(group.get('key')), group.get('threads'), group.get('rows_read'),
                     group.get('buffers'), fmt(group.get('median_ms'), 3)])
    print(common.table(['stored emails', 'subject key', 'threads with it', 'rows read', 'buffers',
                        'ms'], rows))
    print()
    print('Plans at %d stored emails:' % large)
    for label, text in by_size[large]['explain']['plans'].items():
        print()
        print('-- %s' % label)
        print(text)


if __name__ == '__main__':
    sys.exit(main())
