"""Sync mailboxes once, outside a server: for crash tests and benchmarks.

    python -m devenv.run_sync --config CONF --db DB [--mailbox ID ...] [--budget SECONDS]

Prints one JSON line per mailbox: {"mailbox": id, "finished": bool, "seconds": s}.
"""
import argparse
import json
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', required=True)
    parser.add_argument('--db', required=True)
    parser.add_argument('--mailbox', type=int, action='append', default=[])
    parser.add_argument('--budget', type=float, default=3600)
    parser.add_argument('--until-done', action='store_true', help='repeat runs until in sync')
    args = parser.parse_args(argv)

    import odoo
    from odoo.api import Environment
    odoo.tools.config.parse_config(['--config=%s' % args.config, '--log-level=warn'])
    registry = odoo.registry(args.db)
    with Environment.manage(), registry.cursor() as cr:
        env = Environment(cr, odoo.SUPERUSER_ID, {})
        Mailbox = env['email.sync.mailbox']
        mailboxes = Mailbox.browse(args.mailbox) if args.mailbox else Mailbox.search([])
        for mailbox in mailboxes:
            started = time.monotonic()
            while True:
                finished = mailbox._sync_in_new_cursor(args.budget)
                cr.commit()  # a new snapshot: see what the sync's own cursor wrote
                mailbox.invalidate_cache()
                if finished or not args.until_done or finished is None \
                        or mailbox.state in ('error', 'auth_failed'):
                    break
            print(json.dumps({'mailbox': mailbox.id, 'finished': finished, 'state': mailbox.state,
                              'seconds': round(time.monotonic() - started, 3)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
