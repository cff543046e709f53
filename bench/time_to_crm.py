"""How long a new email takes to show up in the CRM when only the scheduler
syncs: SMTP in, Odoo's cron, row in email_sync_message.

    .venv/bin/python bench/time_to_crm.py [--samples 3] [--interval 1] [--jitter 30]
                                          [--timeout 300] [--keep]

Starts its own Dovecot and SMTP relay (devenv.smtp_relay, delivering over
LMTP), seeds a demo-like mailbox (300 messages in INBOX and Sent,
devenv.demo_mail.seed_mailbox), installs the addon into
``ecs_bench_ttc_template`` and clones it to ``ecs_bench_ttc``, connects the
mailbox and runs its first import, sets ``email_crm_sync.sync_interval_minutes``
to ``--interval`` (the shipped default is 10), then starts an Odoo server
(devenv.odoo.OdooServer, threaded, with its cron threads). For each sample it
waits a random 0..--jitter seconds (so samples fall at different points of
the cron cycle), sends one new message over SMTP and polls the database
every 0.25 s until the message is stored.

Odoo 11's cron threads wake every 60 s (+ thread number); the addon's
scheduled action runs every minute and syncs each mailbox that is due.
Results: bench/results/time_to_crm-*.json.
"""
import argparse
import email.utils
import os
import random
import re
import smtplib
import sys
import time

import common
from common import fmt, say
from devenv.demo_mail import generate_raw_messages, seed_mailbox
from devenv.odoo import OdooServer
from devenv.smtp_relay import SmtpRelay

TEMPLATE_DB = 'ecs_bench_ttc_template'
DB = 'ecs_bench_ttc'
LOGIN, PASSWORD = 'ttcuser', 'bench-mail-pw'
ADDRESS = '%s@localhost' % LOGIN
_MESSAGE_ID = re.compile(rb'^Message-ID:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*', re.IGNORECASE | re.MULTILINE)


def new_message(index, tag):
    raw = next(generate_raw_messages(1, seed=1000 + index, owner_address='someone@localhost'))
    message_id = 'ttc-%s-%d@bench.invalid' % (tag, index)
    cut = raw.find(b'\r\n\r\n')
    head, body = raw[:cut], raw[cut:]
    head = _MESSAGE_ID.sub(b'Message-ID: <' + message_id.encode() + b'>', head, count=1)
    head = re.sub(rb'(?im)^To:[^\r\n]*', b'To: Bench <' + ADDRESS.encode() + b'>', head, count=1)
    head = re.sub(rb'(?im)^Date:[^\r\n]*', b'Date: ' + email.utils.formatdate().encode(), head, count=1)
    return message_id, head + body


def stored_at(message_id):
    rows = common.sql(DB, 'SELECT id FROM email_sync_message WHERE message_id = %s', message_id)
    return bool(rows)


def cron_syncs(log_path, since_wall):
    """Timestamps (wall clock) of the addon's cron syncs that stored mail, from Odoo's log."""
    found = []
    try:
        with open(log_path, encoding='utf-8', errors='replace') as handle:
            for line in handle:
                if 'new folder entries' in line:
                    stamp = time.mktime(time.strptime(line[:19], '%Y-%m-%d %H:%M:%S'))
                    if stamp >= since_wall - 1:
                        found.append(line.strip())
    except FileNotFoundError:
        pass
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--samples', type=int, default=3)
    parser.add_argument('--interval', type=int, default=1,
                        help='email_crm_sync.sync_interval_minutes (shipped default: 10)')
    parser.add_argument('--jitter', type=float, default=30.0)
    parser.add_argument('--timeout', type=float, default=300.0, help='per sample')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--keep', action='store_true')
    parser.add_argument('--addon-rev', default=None,
                        help='measure the addon as committed at this git revision (default: the working tree)')
    args = parser.parse_args(argv)
    args.addon_rev = common.resolve_rev(args.addon_rev)
    rng = random.Random(args.seed)
    started = time.monotonic()
    tag = str(int(time.time()))

    run_dir = common.fresh_run_dir('ttc')
    dovecot = common.start_dovecot(run_dir, {LOGIN: PASSWORD})
    relay = SmtpRelay(os.path.join(run_dir, 'smtp'), dovecot=dovecot).start()
    # Odoo logs in UTC-less local time; keep INFO for the addon's "new folder entries" lines.
    config = common.write_config(run_dir, log_level='info', addon_rev=args.addon_rev)
    server = None
    results = {'interval_minutes': args.interval, 'jitter': args.jitter, 'samples': []}
    try:
        seeded = seed_mailbox(dovecot, LOGIN, PASSWORD, count=300, owner_name='Bench User',
                              owner_address=ADDRESS)
        say('seeded %d demo messages; installing the addon' % seeded)
        common.install(config, TEMPLATE_DB, ['email_crm_sync'], os.path.join(run_dir, 'install.log'))
        common.clone(config, TEMPLATE_DB, DB)
        fingerprint = common.dovecot_fingerprint(dovecot)
        setup = common.odoo_task(config, DB, 'setup-mailbox', '--login', LOGIN, '--password', PASSWORD,
                                 '--email', ADDRESS, '--imap-port', dovecot.imaps_port,
                                 '--fingerprint', fingerprint, '--lookback', 'all',
                                 timed=False).json_lines()[-1]
        common.odoo_task(config, DB, 'set-param',
                         'email_crm_sync.sync_interval_minutes=%d' % args.interval, timed=False)
        first = common.run_timed(common.run_sync_command(config, DB, setup['mailbox_id']),
                                 env=common.odoo_env.odoo_env()).check('run_sync').json_lines()[-1]
        say('mailbox %s connected, first import %.1fs' % (setup['mailbox_id'], first['seconds']))

        log_path = os.path.join(run_dir, 'odoo-server.log')
        server = OdooServer(config, DB, log_path=log_path)
        server_wall = time.time()
        server.start()
        say('Odoo serving on %s (cron threads wake every ~60 s)' % server.url)
        results['server_started_wall'] = server_wall

        for index in range(args.samples):
            pause = rng.uniform(0, args.jitter)
            time.sleep(pause)
            message_id, raw = new_message(index, tag)
            sent_wall = time.time()
            t0 = time.monotonic()
            with smtplib.SMTP(relay.host, relay.port, timeout=30) as smtp:
                smtp.sendmail('someone@example.com', [ADDRESS], raw)
            accepted = time.monotonic() - t0
            seen = None
            while time.monotonic() - t0 < args.timeout:
                if stored_at(message_id):
                    seen = time.monotonic() - t0
                    break
                time.sleep(0.25)
            sample = {'index': index, 'pause': round(pause, 1), 'sent_wall': sent_wall,
                      'since_server_start': round(sent_wall - server_wall, 1),
                      'smtp_seconds': round(accepted, 3),
                      'seconds': round(seen, 2) if seen is not None else None}
            results['samples'].append(sample)
            say('sample %d: %s' % (index + 1, ('%.1f s' % seen) if seen is not None
                                   else 'not stored within %.0f s' % args.timeout))
        results['cron_syncs'] = cron_syncs(log_path, server_wall)
        seconds = [s['seconds'] for s in results['samples'] if s['seconds'] is not None]
        results['summary'] = {'min': min(seconds) if seconds else None,
                              'max': max(seconds) if seconds else None,
                              'mean': sum(seconds) / len(seconds) if seconds else None,
                              'missed': len(results['samples']) - len(seconds)}
        results['total_seconds'] = round(time.monotonic() - started, 1)
        path = common.save_results('time_to_crm', results, args.addon_rev)

        print()
        print('Time from SMTP to the CRM (cron only; sync interval %d min, shipped default 10)'
              % args.interval)
        print(common.table(['sample', 'sent at (s after server start)', 'SMTP s', 'in CRM after s'],
                           [[s['index'] + 1, s['since_server_start'], fmt(s['smtp_seconds'], 2),
                             fmt(s['seconds']) if s['seconds'] is not None else 'timeout']
                            for s in results['samples']]))
        summary = results['summary']
        if seconds:
            print('min %.1f s, mean %.1f s, max %.1f s' % (summary['min'], summary['mean'], summary['max']))
        print('cron syncs that stored mail (Odoo log):')
        for line in results['cron_syncs']:
            print('  ' + line[:160])
        print('total %.0fs; results: %s' % (results['total_seconds'], path))
        return 0
    finally:
        if not args.keep:
            if server:
                server.stop()
            relay.stop()
            dovecot.stop()
            common.drop(config, DB, TEMPLATE_DB)
            say('Odoo, relay and Dovecot stopped, databases dropped')


if __name__ == '__main__':
    sys.exit(main())
