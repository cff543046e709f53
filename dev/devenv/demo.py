"""The demo of dev/run: a database with the CRM's demo data and the addon,
the demo user's mailbox pointing at the local Dovecot (seeded with a few
hundred realistic messages), connected and its folders listed; and a second
mailbox for the demo user to connect by signing in ("Sign in" on the preset
"Demo sign-in (local)"), with the local OAuth server playing Google.

Run after the demo OAuth server and Dovecot are started (``python -m devenv
oauth start``, then ``dovecot start``).
Idempotent: a second run finds everything in place and only checks it.
"""
import json
import os
import secrets
import ssl
import sys
import time

from . import odoo as odoo_env
from . import paths
from .demo_mail import seed_mailbox
from .dovecot import Dovecot
from .oauth_server import OAuthServer

DEMO_DIR = os.path.join(paths.RUN_DIR, 'demo')
DATA_DIR = os.path.join(DEMO_DIR, 'data')
CONFIG_PATH = os.path.join(DEMO_DIR, 'odoo.conf')
DB_NAME = os.environ.get('ECS_DEMO_DB', 'email_crm_sync_demo')
HTTP_PORT = int(os.environ.get('ECS_HTTP_PORT', '8069'))
MAIL_LOGIN, MAIL_PASSWORD = 'demo', 'demo'
MAIL_ADDRESS = 'demo@localhost'
SMTP_PORT = 10025   # the demo relay (python -m devenv smtp start)
MESSAGE_COUNT = 300
# The second demo mailbox, connected by signing in at the local OAuth server.
SIGN_IN_ADDRESS, SIGN_IN_PASSWORD = 'marc.demo@sales.test', 'demo'
SIGN_IN_MESSAGE_COUNT = 40
OAUTH_CLIENT_ID = 'email-crm-sync-demo'
FINGERPRINT_PARAM = 'email_crm_sync.demo_addon_fingerprint'


def say(text):
    print('[run] %s' % text, file=sys.stderr, flush=True)


def demo_dovecot():
    with open(os.path.join(DEMO_DIR, 'dovecot.json'), encoding='utf-8') as handle:
        state = json.load(handle)
    return Dovecot(DEMO_DIR, imap_port=state['imap_port'], imaps_port=state['imaps_port'],
                   lmtp_port=state['lmtp_port'])


def certificate_fingerprint(cert_path):
    from email_crm_sync.lib.imap_session import certificate_fingerprint as fingerprint
    with open(cert_path, encoding='ascii') as handle:
        return fingerprint(ssl.PEM_cert_to_DER_cert(handle.read()))


def demo_parameter(key):
    """A system parameter of the demo database, read without starting Odoo."""
    import psycopg2
    with psycopg2.connect(host=odoo_env.DB_HOST, port=odoo_env.DB_PORT, user=odoo_env.DB_USER,
                          dbname=DB_NAME) as conn, conn.cursor() as cr:
        cr.execute('SELECT value FROM ir_config_parameter WHERE key = %s', (key,))
        row = cr.fetchone()
    return row[0] if row else None


def add_demo_deals(env, mailbox):
    """Open deals for the three busiest correspondents, linked the way the sync
    links them (once: later runs find them)."""
    Lead = env['crm.lead']
    if Lead.search_count([('name', '=like', 'Demo deal: %')]):
        return
    threads = env['email.sync.thread'].search([('mailbox_id', '=', mailbox.id)])
    counts = {}
    for thread in threads:
        for partner in thread.partner_ids:
            counts[partner] = counts.get(partner, 0) + 1
    busiest = sorted(counts, key=lambda p: (-counts[p], p.id))[:3]
    for partner in busiest:
        Lead.create({'name': 'Demo deal: %s' % partner.name, 'type': 'opportunity',
                     'partner_id': partner.id, 'user_id': mailbox.user_id.id})
    threads.filtered(lambda t: t.partner_ids & env['res.partner'].concat(*busiest))._auto_link_deals()


def demo_oauth_server():
    with open(os.path.join(DEMO_DIR, 'oauth.json'), encoding='utf-8') as handle:
        state = json.load(handle)
    return OAuthServer(DEMO_DIR, port=state['port'])


def set_up_sign_in(env, dovecot, oauth):
    """A sign-in provider on the local OAuth server and a preset that uses it
    (created once; the client secret renewed at every start, on both sides)."""
    secret = secrets.token_urlsafe(24)
    oauth.add_client(OAUTH_CLIENT_ID, secret,
                     ['http://127.0.0.1:%d/email_crm_sync/oauth/callback' % HTTP_PORT],
                     'openid email mail')
    App = env['email.sync.oauth.app']
    app = App.search([('code', '=', 'demo_local')])
    values = {'name': 'Demo sign-in server', 'authorize_url': oauth.authorize_url,
              'token_url': oauth.token_url, 'revoke_url': oauth.revoke_url,
              'jwks_url': oauth.jwks_url, 'issuer': oauth.issuer, 'scopes': 'openid email mail',
              'client_id': OAUTH_CLIENT_ID}
    if app:
        app.write(values)
    else:
        app = App.create(dict(values, code='demo_local', sequence=90))
    app._set_client_secret(secret)
    Provider = env['email.sync.provider']
    preset = Provider.search([('code', '=', 'demo_oauth')])
    values = {'imap_host': dovecot.host, 'imap_port': dovecot.imaps_port, 'imap_security': 'ssl',
              'smtp_host': '127.0.0.1', 'smtp_port': SMTP_PORT, 'smtp_security': 'starttls',
              'oauth_app_id': app.id, 'stores_sent_copy': False,
              'help_text': 'The local demo mail server. Press Sign in and sign in as %s, password '
                           '%s; then trust the demo certificate (made on this machine).'
                           % (SIGN_IN_ADDRESS, SIGN_IN_PASSWORD)}
    if preset:
        preset.write(values)
    else:
        Provider.create(dict(values, name='Demo sign-in (local)', code='demo_oauth', sequence=1))


def connect_demo_mailbox(dovecot, fingerprint, oauth):
    """Create (once) and test the demo user's mailbox, inside Odoo."""
    import odoo
    from odoo.api import Environment
    odoo.tools.config.parse_config(['--config=%s' % CONFIG_PATH, '--log-level=warn'])
    registry = odoo.registry(DB_NAME)
    with Environment.manage(), registry.cursor() as cr:
        env = Environment(cr, odoo.SUPERUSER_ID, {})
        demo_user = env.ref('base.user_demo')
        Mailbox = env['email.sync.mailbox'].sudo(demo_user)
        mailbox = Mailbox.search([('email', '=', MAIL_ADDRESS)], limit=1)
        if not mailbox:
            mailbox = Mailbox.create({
                'name': 'Demo mailbox (local Dovecot)',
                'email': MAIL_ADDRESS,
                'provider_id': env.ref('email_crm_sync.email_sync_provider_custom').id,
                'imap_host': dovecot.host, 'imap_port': dovecot.imaps_port, 'imap_security': 'ssl',
                'login': MAIL_LOGIN, 'password': MAIL_PASSWORD,
            })
        # The demo Dovecot's certificate is self-signed and made on this
        # machine: trust exactly that one, as a user would after comparing.
        # Mail written in the CRM goes out through the demo SMTP relay (same
        # certificate as Dovecot) and, addressed to <user>@localhost, lands in Dovecot.
        mailbox.sudo().write({'tls_trusted_fingerprint': certificate_fingerprint(dovecot.cert_path),
                              'imap_port': dovecot.imaps_port, 'smtp_host': '127.0.0.1',
                              'smtp_port': SMTP_PORT, 'smtp_security': 'starttls'})
        if not mailbox.signature:
            mailbox.sudo().signature = '<p>Marc Demo<br>Sales Manager, Demo Trading Ltd.</p>'
        # Tracking links in sent mail point at this server.
        env['ir.config_parameter'].set_param('web.base.url', 'http://127.0.0.1:%d' % HTTP_PORT)
        mailbox.action_test_connection()
        cr.commit()
        if mailbox.state != 'ok':
            raise SystemExit('the demo mailbox does not connect: %s' % mailbox.last_error)
        # The first import, now, so the demo opens with mail in it; the
        # scheduler keeps it in sync from then on.
        for _attempt in range(10):
            finished = mailbox._sync_in_new_cursor(120)
            cr.commit()  # a fresh snapshot: see what the sync committed
            mailbox.invalidate_cache()
            if finished is not False or mailbox.state != 'ok':
                break
        add_demo_deals(env, mailbox)
        set_up_sign_in(env, dovecot, oauth)
        env['ir.config_parameter'].set_param(FINGERPRINT_PARAM, fingerprint)
        cr.commit()
        return mailbox.folder_count, mailbox.email_count


def prepare():
    started = time.monotonic()
    dovecot = demo_dovecot()
    if not dovecot.is_running():
        raise SystemExit('the demo Dovecot is not running: python -m devenv dovecot start')
    oauth = demo_oauth_server()
    if not oauth.is_running():
        raise SystemExit('the demo OAuth server is not running: python -m devenv oauth start')
    # The second mailbox's IMAP password is never used by the CRM (it signs
    # in with a token); Dovecot needs the user to deliver and seed its mail.
    imap_password = secrets.token_urlsafe(12)
    dovecot.add_users({MAIL_LOGIN: MAIL_PASSWORD, SIGN_IN_ADDRESS: imap_password})
    oauth.add_user(SIGN_IN_ADDRESS, SIGN_IN_PASSWORD)
    for login, password, count, address in (
            (MAIL_LOGIN, MAIL_PASSWORD, MESSAGE_COUNT, MAIL_ADDRESS),
            (SIGN_IN_ADDRESS, imap_password, SIGN_IN_MESSAGE_COUNT, SIGN_IN_ADDRESS)):
        added = seed_mailbox(dovecot, login, password, count=count, seed=len(login),
                             owner_name='Marc Demo', owner_address=address)
        if added:
            say('seeded %d demo messages into %s' % (added, address))
    odoo_env.write_config(CONFIG_PATH, DATA_DIR, db_name=DB_NAME, http_port=HTTP_PORT,
                          without_demo='False', log_level='info',
                          logfile=os.path.join(DEMO_DIR, 'odoo.log'))
    fingerprint = odoo_env.addon_fingerprint()
    if not odoo_env.database_exists(DB_NAME):
        say('creating the demo database %s (about a minute, once)' % DB_NAME)
        odoo_env.install_database(CONFIG_PATH, DB_NAME, modules=('crm', odoo_env.ADDON), demo=True,
                                  log_path=os.path.join(DEMO_DIR, 'install.log'))
    elif demo_parameter(FINGERPRINT_PARAM) != fingerprint:
        say('the addon changed since the demo database was made: updating it')
        odoo_env.update_database(CONFIG_PATH, DB_NAME, log_path=os.path.join(DEMO_DIR, 'install.log'))
    folders, messages = connect_demo_mailbox(dovecot, fingerprint, oauth)
    say('demo mailbox %s connected: %d folders, %d emails synced (%.0fs)'
        % (MAIL_ADDRESS, folders, messages, time.monotonic() - started))


if __name__ == '__main__':
    prepare()
