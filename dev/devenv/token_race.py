"""Several workers asking at the same moment for one mailbox's access token.

    python -m devenv.token_race --config CONF --db DB --mailbox ID [--workers N]

Each worker has a cursor of its own, as sync workers of several processes
would. Prints one JSON line: the SHA-256 of the token each worker got (not the
token), and the errors.
"""
import argparse
import hashlib
import json
import sys
import threading


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', required=True)
    parser.add_argument('--db', required=True)
    parser.add_argument('--mailbox', type=int, required=True)
    parser.add_argument('--workers', type=int, default=4)
    args = parser.parse_args(argv)

    import odoo
    from odoo.api import Environment
    odoo.tools.config.parse_config(['--config=%s' % args.config, '--log-level=warn'])
    registry = odoo.registry(args.db)
    start = threading.Barrier(args.workers)
    digests, errors = [], []

    def worker():
        with Environment.manage(), registry.cursor() as cr:
            env = Environment(cr, odoo.SUPERUSER_ID, {})
            mailbox = env['email.sync.mailbox'].browse(args.mailbox)
            mailbox.auth_method  # noqa: B018  (read before the race, as a sync would)
            start.wait()
            try:
                token = mailbox._oauth_access_token()
                digests.append(hashlib.sha256(token.encode()).hexdigest())
            except Exception as error:  # reported, not raised: the caller counts them
                errors.append('%s: %s' % (type(error).__name__, error))

    threads = [threading.Thread(target=worker) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({'digests': digests, 'errors': errors}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
