"""Start, stop and inspect the local mail services one at a time.

    python -m devenv dovecot start|stop|status|add-user|seed [options]
    python -m devenv smtp start|stop|status [options]
    python -m devenv oauth start|stop|status [options]

The ports a service was started on are kept in <run-dir>/<service>.json, so
`stop` and `status` (and `smtp start`, which delivers into that Dovecot)
find them again without repeating the options. `dovecot start` takes
XOAUTH2 logins, checked by the run dir's OAuth server, when that server
runs (start it first); `smtp start` then offers AUTH XOAUTH2 too.
"""
import argparse
import json
import os
import sys

from .paths import RUN_DIR
from .dovecot import Dovecot
from .oauth_server import OAuthServer
from .smtp_relay import SmtpRelay

DEFAULT_RUN_DIR = os.path.join(RUN_DIR, 'demo')
DEFAULTS = dict(imap_port=10143, imaps_port=10993, lmtp_port=10024, smtp_port=10025,
                oauth_port=10090)  # not 10080: browsers refuse that port (NAT slipstreaming)
DEFAULT_OAUTH_SCOPE = 'openid email offline_access https://mail.google.com/'
DEMO_USER = ('demo', 'demo')
NOT_RUNNING = 3  # the LSB status code for "program is not running"


def _state_path(run_dir, service):
    return os.path.join(run_dir, service + '.json')


def _load_state(run_dir, service):
    try:
        with open(_state_path(run_dir, service), encoding='utf-8') as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def _save_state(run_dir, service, state):
    os.makedirs(run_dir, exist_ok=True)
    with open(_state_path(run_dir, service), 'w', encoding='utf-8') as f:
        json.dump(state, f, indent=2)
        f.write('\n')


def _dovecot_from_state(run_dir, args=None):
    """The Dovecot of run_dir: ports from the options, else from its state
    file, else the demo defaults."""
    state = _load_state(run_dir, 'dovecot') or {}
    ports = {}
    for key in ('imap_port', 'imaps_port', 'lmtp_port'):
        ports[key] = (getattr(args, key, None) if args else None) or state.get(key) or DEFAULTS[key]
    return Dovecot(run_dir, **ports)


def _describe_dovecot(d):
    text = ('dovecot: IMAP %s:%s (STARTTLS), IMAPS %s:%s, LMTP %s:%s\n'
            '  users: %s\n  run dir: %s\n  CA/cert: %s'
            % (d.host, d.imap_port, d.host, d.imaps_port, d.host, d.lmtp_port,
               ', '.join(d.users()) or '(none)', d.run_dir, d.cert_path))
    if d.oauth2:
        text += '\n  XOAUTH2/OAUTHBEARER: tokens checked at %s' % d.oauth2['introspection_url']
    elif 'XOAUTH2' in d.auth_mechanisms():
        text += "\n  XOAUTH2/OAUTHBEARER: tokens checked by the run dir's OAuth server"
    return text


def _oauth_from_state(run_dir, args=None):
    """The OAuth server of run_dir: port and token lifetime from the options,
    else from its state file, else the defaults."""
    state = _load_state(run_dir, 'oauth') or {}
    port = (getattr(args, 'port', None) if args else None) or state.get('port') \
        or DEFAULTS['oauth_port']
    ttl = (getattr(args, 'access_token_ttl', None) if args else None) \
        or state.get('access_token_ttl') or 3600
    return OAuthServer(run_dir, port=port, access_token_ttl=ttl)


def _describe_oauth(server):
    clients = ['%s -> %s' % (c['client_id'], ' '.join(c['redirect_uris']) or '(no redirect)')
               for c in server.clients()]
    return ('oauth: %s (discovery: %s)\n  users: %s\n  clients: %s\n  log: %s'
            % (server.url, server.discovery_url, ', '.join(server.users()) or '(none)',
               '; '.join(clients) or '(none)', server.log_path))


def cmd_dovecot(args):
    run_dir = os.path.abspath(args.run_dir)
    dovecot = _dovecot_from_state(run_dir, args)
    if args.action == 'start':
        users = [u.partition(':')[::2] for u in args.user or []]
        if not users and not dovecot.users():
            users = [DEMO_USER]
        for login, password in users:
            dovecot.add_user(login, password)
        if dovecot.is_running():
            print('already running\n' + _describe_dovecot(dovecot))
            return 0
        if _load_state(run_dir, 'oauth') and not args.no_oauth2:
            oauth = _oauth_from_state(run_dir)
            if oauth.is_running():
                dovecot.oauth2 = oauth.dovecot_settings()
        dovecot.start()
        _save_state(run_dir, 'dovecot', dict(imap_port=dovecot.imap_port,
                                              imaps_port=dovecot.imaps_port,
                                              lmtp_port=dovecot.lmtp_port,
                                              oauth2=bool(dovecot.oauth2)))
        print('started\n' + _describe_dovecot(dovecot))
    elif args.action == 'stop':
        dovecot.stop()
        print('dovecot stopped')
    elif args.action == 'status':
        if not dovecot.is_running():
            print('dovecot not running (run dir %s)' % run_dir)
            return NOT_RUNNING
        print('running (pid %s)\n' % dovecot.master_pid() + _describe_dovecot(dovecot))
    elif args.action == 'add-user':
        login, _, password = (args.user or [''])[0].partition(':')
        if not password:
            sys.exit('add-user needs --user LOGIN:PASSWORD')
        dovecot.add_user(login, password)
        print('user %s set' % login)
    elif args.action == 'seed':
        from .demo_mail import seed_mailbox
        login, _, password = (args.user or ['%s:%s' % DEMO_USER])[0].partition(':')
        added = seed_mailbox(dovecot, login, password, count=args.count, seed=args.seed)
        print('appended %d messages for %s' % (added, login) if added
              else '%s already has mail; nothing appended' % login)
    return 0


def cmd_smtp(args):
    run_dir = os.path.abspath(args.run_dir)
    state = _load_state(run_dir, 'smtp') or {}
    port = args.port or state.get('port') or DEFAULTS['smtp_port']
    if args.action == 'start':
        dovecot = _dovecot_from_state(run_dir) if _load_state(run_dir, 'dovecot') else None
        lmtp_port = args.lmtp_port or (dovecot.lmtp_port if dovecot else DEFAULTS['lmtp_port'])
        relay = SmtpRelay(run_dir, port=port, lmtp_port=lmtp_port, dovecot=dovecot,
                          require_auth=args.require_auth)
        if relay.is_running():
            print('smtp relay already running on %s:%s' % (relay.host, relay.port))
            return 0
        relay.start()
        _save_state(run_dir, 'smtp', dict(port=relay.port, lmtp_port=relay.lmtp_port,
                                           require_auth=relay.require_auth))
        print('smtp relay on %s:%s (STARTTLS, AUTH %s) delivering over LMTP to port %s\n  log: %s'
              % (relay.host, relay.port, 'required' if relay.require_auth else 'optional',
                 relay.lmtp_port, relay.log_path))
        return 0
    relay = SmtpRelay(run_dir, port=port, lmtp_port=state.get('lmtp_port') or DEFAULTS['lmtp_port'])
    if args.action == 'stop':
        relay.stop()
        print('smtp relay stopped')
    elif args.action == 'status':
        if not relay.is_running():
            print('smtp relay not running (run dir %s)' % run_dir)
            return NOT_RUNNING
        print('smtp relay running (pid %s) on %s:%s' % (relay.pid(), relay.host, relay.port))
    return 0


def cmd_oauth(args):
    run_dir = os.path.abspath(args.run_dir)
    server = _oauth_from_state(run_dir, args)
    if args.action == 'start':
        for spec in args.user or []:
            login, _, password = spec.partition(':')
            if not password:
                sys.exit('--user needs LOGIN:PASSWORD')
            server.add_user(login, password)
        for spec in args.client or []:
            parts = spec.split(':', 2)
            if len(parts) != 3 or not all(parts):
                sys.exit('--client needs ID:SECRET:REDIRECT_URI')
            server.add_client(parts[0], parts[1], [parts[2]], args.scope)
        if server.is_running():
            print('already running\n' + _describe_oauth(server))
            return 0
        server.start()
        _save_state(run_dir, 'oauth', dict(port=server.port,
                                            access_token_ttl=server.access_token_ttl))
        print('started\n' + _describe_oauth(server))
    elif args.action == 'stop':
        server.stop()
        print('oauth server stopped')
    elif args.action == 'status':
        if not server.is_running():
            print('oauth server not running (run dir %s)' % run_dir)
            return NOT_RUNNING
        print('running (pid %s)\n' % server.pid() + _describe_oauth(server))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m devenv', description=__doc__.split('\n')[0])
    services = parser.add_subparsers(dest='service', required=True)

    dovecot = services.add_parser('dovecot', help='IMAP/IMAPS/LMTP server')
    dovecot.add_argument('action', choices=('start', 'stop', 'status', 'add-user', 'seed'))
    dovecot.add_argument('--run-dir', default=DEFAULT_RUN_DIR)
    dovecot.add_argument('--imap-port', type=int)
    dovecot.add_argument('--imaps-port', type=int)
    dovecot.add_argument('--lmtp-port', type=int)
    dovecot.add_argument('--user', action='append', metavar='LOGIN:PASSWORD',
                         help='start: users to add (default demo:demo on a new run dir); '
                              'add-user/seed: the user')
    dovecot.add_argument('--count', type=int, default=300, help='seed: number of messages')
    dovecot.add_argument('--seed', type=int, default=1, help='seed: random seed')
    dovecot.add_argument('--no-oauth2', action='store_true',
                         help="start: do not take XOAUTH2 logins even if the run dir's "
                              'OAuth server runs')
    dovecot.set_defaults(func=cmd_dovecot)

    smtp = services.add_parser('smtp', help='SMTP relay delivering into Dovecot')
    smtp.add_argument('action', choices=('start', 'stop', 'status'))
    smtp.add_argument('--run-dir', default=DEFAULT_RUN_DIR)
    smtp.add_argument('--port', type=int)
    smtp.add_argument('--lmtp-port', type=int,
                      help="default: the LMTP port of the run dir's Dovecot")
    smtp.add_argument('--require-auth', action='store_true',
                      help='refuse mail without AUTH (checked by an IMAP login to '
                           "the run dir's Dovecot)")
    smtp.set_defaults(func=cmd_smtp)

    oauth = services.add_parser('oauth', help='OAuth2 / OpenID Connect server (sign-in)')
    oauth.add_argument('action', choices=('start', 'stop', 'status'))
    oauth.add_argument('--run-dir', default=DEFAULT_RUN_DIR)
    oauth.add_argument('--port', type=int)
    oauth.add_argument('--access-token-ttl', type=int, metavar='SECONDS',
                       help='lifetime of access tokens (default 3600)')
    oauth.add_argument('--user', action='append', metavar='LOGIN:PASSWORD',
                       help='start: add a user (the login is the email address and the '
                            'Dovecot login)')
    oauth.add_argument('--client', action='append', metavar='ID:SECRET:REDIRECT_URI',
                       help='start: register a confidential client')
    oauth.add_argument('--scope', default=DEFAULT_OAUTH_SCOPE,
                       help='the scopes --client may ask for (default: %(default)s)')
    oauth.set_defaults(func=cmd_oauth)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == '__main__':
    sys.exit(main())
