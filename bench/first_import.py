"""First import of a big mailbox: our sync against the practical ceiling and
against Odoo 11's own fetchmail, measured in one run on the same messages.

    .venv/bin/python bench/first_import.py [--count 5000] [--fetchmail-count N]
                                           [--profile] [--no-breakdown] [--keep]

Starts its own Dovecot (free ports) with two users holding the same N
generated messages in INBOX (``bench``: for the bare fetch and our sync,
which never change the mailbox; ``benchfm``: for fetchmail, which marks
what it fetched \\Seen), installs the addon into ``ecs_bench_template`` and
``crm,fetchmail`` into ``ecs_bench_fetchmail``, then measures:

(a) bare: imapclient, BODY.PEEK[] in batches of 200, email.message_from_bytes
    with policy.default (bench/bare_fetch.py), no storing;
(b) ours: ``python -m devenv.run_sync --until-done`` on a clone, lookback "all";
(c) fetchmail: ``fetch_mail()`` of an IMAP fetchmail.server creating crm.lead.

Each runs in a process of its own under /usr/bin/time -v (peak RSS). Rates
use the time of the work itself (without interpreter/Odoo start-up); the
wall time including start-up is reported too. Then, unless --no-breakdown,
a second import of ours runs instrumented (SQL count and time, IMAP fetch,
MIME parsing, record creation); with --profile, or when a target is
missed, a third one runs under cProfile for --profile-budget seconds.

Targets: ours/fetchmail >= 5, ours/bare >= 0.5.
Results: bench/results/first_import-*.json.
"""
import argparse
import itertools
import os
import sys
import threading
import time

import common
from common import fmt, say
from devenv import paths
from devenv.demo_mail import generate_messages

TEMPLATE_DB = 'ecs_bench_template'
FETCHMAIL_DB = 'ecs_bench_fetchmail'
OURS_DB = 'ecs_bench_fi_ours'  # + 2, 3... for repeated runs
BREAKDOWN_DB = 'ecs_bench_fi_breakdown'
PROFILE_DB = 'ecs_bench_fi_profile'
USER, FM_USER = 'bench', 'benchfm'
PASSWORD = 'bench-mail-pw'
TARGET_VS_FETCHMAIL = 5.0
TARGET_VS_BARE = 0.5


def messages(count, seed):
    """The generated mail as MULTIAPPEND items, all for INBOX, unread."""
    for message in generate_messages(count, seed, owner_name='Bench User',
                                     owner_address='%s@localhost' % USER):
        yield {'msg': message.raw, 'flags': (), 'date': message.date}


class Background(threading.Thread):
    def __init__(self, target, *args):
        super().__init__(daemon=True)
        self._target_fn, self._args = target, args
        self.result = self.error = None

    def run(self):
        try:
            self.result = self._target_fn(*self._args)
        except BaseException as error:  # reported by join_result
            self.error = error

    def join_result(self):
        self.join()
        if self.error:
            raise self.error
        return self.result


def median_run(runs):
    """The run with the median time (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: r['seconds'])
    return ordered[(len(ordered) - 1) // 2] if len(ordered) % 2 else dict(
        ordered[len(ordered) // 2 - 1],
        seconds=(ordered[len(ordered) // 2 - 1]['seconds'] + ordered[len(ordered) // 2]['seconds']) / 2,
        wall=(ordered[len(ordered) // 2 - 1]['wall'] + ordered[len(ordered) // 2]['wall']) / 2)


def new_mailbox(config, db, dovecot, fingerprint):
    setup = common.odoo_task(config, db, 'setup-mailbox', '--login', USER, '--password', PASSWORD,
                             '--email', '%s@localhost' % USER, '--imap-port', dovecot.imaps_port,
                             '--fingerprint', fingerprint, '--lookback', 'all', timed=False)
    info = setup.json_lines()[-1]
    if info['state'] != 'ok':
        raise RuntimeError('mailbox not connected: %s' % info)
    return info['mailbox_id']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=5000)
    parser.add_argument('--fetchmail-count', type=int, default=None,
                        help='messages for fetchmail (default: --count); fetchmail is slow')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--chunk', type=int, default=200, help='messages per MULTIAPPEND')
    parser.add_argument('--repeat-bare', type=int, default=3, help='bare runs (median used)')
    parser.add_argument('--repeat-ours', type=int, default=2, help='runs of ours (median used)')
    parser.add_argument('--no-fetchmail', action='store_true')
    parser.add_argument('--no-breakdown', action='store_true')
    parser.add_argument('--profile', action='store_true', help='always run the cProfile pass')
    parser.add_argument('--profile-budget', type=float, default=45.0)
    parser.add_argument('--keep', action='store_true', help='keep databases and Dovecot (debugging)')
    parser.add_argument('--addon-rev', default=None,
                        help='measure the addon as committed at this git revision (default: the working tree)')
    args = parser.parse_args(argv)
    args.addon_rev = common.resolve_rev(args.addon_rev)
    fm_count = args.fetchmail_count or args.count
    started = time.monotonic()

    run_dir = common.fresh_run_dir('first_import')
    say('run directory %s' % run_dir)
    dovecot = common.start_dovecot(run_dir, {USER: PASSWORD, FM_USER: PASSWORD})
    config = common.write_config(run_dir, addon_rev=args.addon_rev)
    dbs = [TEMPLATE_DB, FETCHMAIL_DB, BREAKDOWN_DB, PROFILE_DB]
    results = {'count': args.count, 'fetchmail_count': fm_count, 'seed': args.seed}
    try:
        say('installing the addon into %s and crm,fetchmail into %s (in the background)'
            % (TEMPLATE_DB, FETCHMAIL_DB))
        install_ours = Background(common.install, config, TEMPLATE_DB, ['email_crm_sync'],
                                  os.path.join(run_dir, 'install-template.log'))
        install_ours.start()
        install_fm = None
        if not args.no_fetchmail:
            install_fm = Background(common.install, config, FETCHMAIL_DB, ['crm', 'fetchmail'],
                                    os.path.join(run_dir, 'install-fetchmail.log'))
            install_fm.start()

        t0 = time.monotonic()
        count, size = common.fill(dovecot, [(USER, PASSWORD)], messages(args.count, args.seed),
                                  chunk=args.chunk)
        fill_seconds = time.monotonic() - t0
        if not args.no_fetchmail:
            common.fill(dovecot, [(FM_USER, PASSWORD)],
                        itertools.islice(messages(args.count, args.seed), fm_count), chunk=args.chunk)
        results['mailbox'] = {'messages': count, 'bytes': size, 'mean_bytes': size // max(count, 1),
                              'fill_seconds': round(fill_seconds, 2)}
        say('filled INBOX with %d messages (%.1f MB) in %.1fs'
            % (count, size / 1e6, fill_seconds))
        results['install_seconds'] = {TEMPLATE_DB: round(install_ours.join_result(), 1)}
        if install_fm:
            results['install_seconds'][FETCHMAIL_DB] = round(install_fm.join_result(), 1)
        say('databases installed: %s' % results['install_seconds'])
        fingerprint = common.dovecot_fingerprint(dovecot)

        # (a) and (b), interleaved (bare, ours, bare, ours, bare...) so that
        # drift in the machine's load hits both; rates use the medians.
        def run_bare():
            timed = common.run_timed([paths.VENV_PYTHON, os.path.join(common.BENCH_DIR, 'bare_fetch.py'),
                                      '--port', str(dovecot.imaps_port), '--login', USER,
                                      '--password', PASSWORD, '--cafile', dovecot.cert_path,
                                      '--batch', '200']).check('bare fetch')
            out = timed.json_lines()[-1]
            return dict(out, wall=round(timed.wall, 3), max_rss_mb=timed.max_rss_mb,
                        loadavg=os.getloadavg())

        def run_ours(index):
            db = OURS_DB + ('' if index == 0 else str(index + 1))
            dbs.append(db)
            common.clone(config, TEMPLATE_DB, db)
            mailbox_id = new_mailbox(config, db, dovecot, fingerprint)
            timed = common.run_timed(common.run_sync_command(config, db, mailbox_id),
                                     env=common.odoo_env.odoo_env()).check('run_sync')
            out = timed.json_lines()[-1]
            stored = common.sql(db, 'SELECT count(*) FROM email_sync_message WHERE mailbox_id = %s',
                                mailbox_id)[0][0]
            links = common.sql(db, """SELECT count(*) FROM email_sync_message_folder l
                               JOIN email_sync_folder f ON f.id = l.folder_id
                               WHERE f.mailbox_id = %s AND f.name = 'INBOX'""", mailbox_id)[0][0]
            if links != count or not out.get('finished'):
                say('WARNING: our sync stored %d INBOX entries of %d (%s)' % (links, count, out))
            common.drop(config, db)
            return dict(run_sync=out, seconds=out['seconds'], wall=round(timed.wall, 3),
                        max_rss_mb=timed.max_rss_mb, stored_messages=stored, inbox_links=links,
                        loadavg=os.getloadavg())

        bare_runs, ours_runs = [], []
        for index in range(max(args.repeat_bare, args.repeat_ours)):
            if index < args.repeat_bare:
                say('(a) bare fetch + parse, run %d' % (index + 1))
                bare_runs.append(run_bare())
            if index < args.repeat_ours:
                say('(b) our sync (devenv.run_sync --until-done), run %d' % (index + 1))
                ours_runs.append(run_ours(index))
        results['bare_runs'], results['ours_runs'] = bare_runs, ours_runs
        results['bare'] = median_run(bare_runs)
        results['ours'] = median_run(ours_runs)
        bare_out, ours_out = results['bare'], results['ours']

        # (c) Odoo 11's fetchmail
        if not args.no_fetchmail:
            say('(c) Odoo 11 fetchmail.fetch_mail() on %d messages' % fm_count)
            fm = common.odoo_task(config, FETCHMAIL_DB, 'fetchmail', '--login', FM_USER,
                                  '--password', PASSWORD, '--port', dovecot.imaps_port,
                                  timeout=7200)
            fm_out = fm.json_lines()[-1]
            unseen_left = common.folder_count(dovecot, FM_USER, PASSWORD, criteria='UNSEEN')
            results['fetchmail'] = dict(fm_out, wall=round(fm.wall, 3), max_rss_mb=fm.max_rss_mb,
                                        unseen_left=unseen_left, loadavg=os.getloadavg())

        # rates and ratios
        rows = []

        def rate(n, seconds):
            return n / seconds if seconds else None

        results['rates'] = {
            'bare': rate(count, bare_out['seconds']),
            'ours': rate(count, ours_out['seconds']),
            'ours_wall': rate(count, ours_out['wall']),
            'bare_wall': rate(count, bare_out['wall']),
        }

        def spread(runs):
            values = sorted(r['seconds'] for r in runs)
            return '' if len(values) < 2 else ' (%s..%s)' % (fmt(values[0], 2), fmt(values[-1], 2))

        rows.append(['(a) bare fetch+parse, median of %d' % len(bare_runs), count,
                     fmt(bare_out['seconds'], 2) + spread(bare_runs), fmt(bare_out['wall'], 2),
                     fmt(results['rates']['bare']), fmt(max(r['max_rss_mb'] or 0 for r in bare_runs))])
        rows.append(['(b) ours (run_sync), median of %d' % len(ours_runs), count,
                     fmt(ours_out['seconds'], 2) + spread(ours_runs), fmt(ours_out['wall'], 2),
                     fmt(results['rates']['ours']), fmt(max(r['max_rss_mb'] or 0 for r in ours_runs))])
        if 'fetchmail' in results:
            fmr = results['fetchmail']
            results['rates']['fetchmail'] = rate(fm_count, fmr['seconds'])
            results['rates']['fetchmail_wall'] = rate(fm_count, fm.wall)
            rows.append(['(c) Odoo 11 fetchmail', fm_count, fmt(fmr['seconds'], 2), fmt(fm.wall, 2),
                         fmt(results['rates']['fetchmail']), fmt(fm.max_rss_mb)])
        ratios = {'ours_vs_bare': results['rates']['ours'] / results['rates']['bare']}
        if 'fetchmail' in results['rates']:
            ratios['ours_vs_fetchmail'] = results['rates']['ours'] / results['rates']['fetchmail']
        results['ratios'] = ratios
        results['targets'] = {
            'ours_vs_fetchmail': {'target': TARGET_VS_FETCHMAIL,
                                  'met': ratios.get('ours_vs_fetchmail', 0) >= TARGET_VS_FETCHMAIL},
            'ours_vs_bare': {'target': TARGET_VS_BARE, 'met': ratios['ours_vs_bare'] >= TARGET_VS_BARE},
        }
        missed = not all(t['met'] for t in results['targets'].values())

        # instrumented second import: where the time goes
        if not args.no_breakdown:
            say('instrumented import (SQL, IMAP, parse, create) on a fresh clone')
            common.clone(config, TEMPLATE_DB, BREAKDOWN_DB)
            mailbox_id = new_mailbox(config, BREAKDOWN_DB, dovecot, fingerprint)
            broken = common.odoo_task(config, BREAKDOWN_DB, 'sync', '--mailbox', mailbox_id,
                                      '--until-done', '--sql-callers', 'SELECT email_sync_message',
                                      '--sql-callers', 'SELECT ir_attachment',
                                      '--sql-callers', 'UPDATE ir_attachment')
            results['breakdown'] = broken.json_lines()[-1]
            common.drop(config, BREAKDOWN_DB)
        if args.profile or missed:
            say('cProfile pass (%.0fs budget) on a fresh clone' % args.profile_budget)
            common.clone(config, TEMPLATE_DB, PROFILE_DB)
            mailbox_id = new_mailbox(config, PROFILE_DB, dovecot, fingerprint)
            os.makedirs(common.RESULTS_DIR, exist_ok=True)
            prof = common.odoo_task(config, PROFILE_DB, 'sync', '--mailbox', mailbox_id,
                                    '--budget', args.profile_budget, '--profile',
                                    '--profile-lines', 45, '--profile-out',
                                    os.path.join(common.RESULTS_DIR, 'first_import-profile-latest.pstats'))
            lines = prof.json_lines()
            results['profile'] = {'run': lines[0], 'text': lines[-1]['profile']}
            profile_path = os.path.join(common.RESULTS_DIR, 'first_import-profile-latest.txt')
            os.makedirs(common.RESULTS_DIR, exist_ok=True)
            with open(profile_path, 'w', encoding='utf-8') as handle:
                handle.write(lines[-1]['profile'])
            say('profile written to %s' % profile_path)

        results['total_seconds'] = round(time.monotonic() - started, 1)
        path = common.save_results('first_import', results, args.addon_rev)

        print()
        print('First import of %d messages (%.1f MB, mean %d bytes), INBOX, one Dovecot'
              % (count, size / 1e6, size // max(count, 1)))
        print(common.table(['measurement', 'msgs', 'work s', 'wall s', 'msgs/s (work)', 'peak MB'],
                           rows))
        print()
        print('ours/bare      = %.2fx (target >= %.1f): %s'
              % (ratios['ours_vs_bare'], TARGET_VS_BARE,
                 'met' if results['targets']['ours_vs_bare']['met'] else 'MISSED'))
        if 'ours_vs_fetchmail' in ratios:
            print('ours/fetchmail = %.2fx (target >= %.1f): %s'
                  % (ratios['ours_vs_fetchmail'], TARGET_VS_FETCHMAIL,
                     'met' if results['targets']['ours_vs_fetchmail']['met'] else 'MISSED'))
            fmr = results['fetchmail']
            print('fetchmail: %s; leads created %s; %s UNSEEN left; %d SQL queries (%.1f/msg)'
                  % (fmr.get('fetch_log'), fmr['leads_created'], fmr['unseen_left'],
                     fmr['sql_queries'], fmr['sql_queries'] / max(fm_count, 1)))
        if 'breakdown' in results:
            b = results['breakdown']
            total = b['seconds']
            print()
            print('Where our import spends its time (instrumented run: %.1fs, %.1f msgs/s, %d runs)'
                  % (total, count / total if total else 0, b['runs']))
            brows = []
            for name, item in b['breakdown'].items():
                brows.append([name, item['calls'], fmt(item['seconds'], 2),
                              fmt(100 * item['seconds'] / total if total else 0, 1) + '%',
                              fmt(1000 * item['seconds'] / count, 2)])
            print(common.table(['part (nested: *_total include others)', 'calls', 'seconds', 'share',
                                'ms/msg'], brows))
            print('SQL queries per message: %.1f'
                  % (b['breakdown'].get('sql', {}).get('calls', 0) / max(count, 1)))
            cache = b.get('env_cache_after_last_run') or {}
            if cache:
                print('Odoo record cache at the end of the (last) run: %d values in %d fields, RSS %.0f MB'
                      % (cache['values'], cache['fields'], cache['rss_mb']))
            print()
            print('SQL by statement (instrumented run):')
            print(common.table(['statement', 'calls', 'per msg', 'seconds'],
                               [[k['kind'], k['calls'], fmt(k['calls'] / max(count, 1), 2),
                                 fmt(k['seconds'], 2)] for k in b.get('sql_kinds', [])]))
            if b.get('sql_callers'):
                print()
                print('Who runs them (innermost frames first):')
                for item in b['sql_callers']:
                    print('  %5d  %s  <-  %s' % (item['calls'], item['kind'], item['path'][:230]))
        print()
        print('total %.0fs; results: %s' % (results['total_seconds'], path))
        return 0
    finally:
        if not args.keep:
            dovecot.stop()
            common.drop(config, *dbs)
            say('Dovecot stopped, databases dropped')


if __name__ == '__main__':
    sys.exit(main())
