"""An Odoo server whose mailboxes sign in with the local OAuth server.

`oauth_crm` (a session fixture, registered in conftest.py) starts an Odoo
server of its own, logging at INFO so that request lines (with the callback's
query string) reach its log, and sets up a sign-in provider "Local sign-in"
pointing at devenv's OAuth server and a mail preset "Local mail" on the
Dovecot that checks tokens with that server.

`Salesperson` is one person in that world: an Odoo user, an account on the
OAuth server and a Dovecot user of the same address, with the moves the
tests make (create a mailbox, sign in over HTTP as a browser would, sync).
Every secret seen on the way is kept in `OauthCrm.secrets` for the log checks.
"""
import json
import os
import secrets
import ssl
import subprocess
import urllib.parse

import psycopg2
import pytest
import requests
from cryptography.fernet import Fernet

from devenv import odoo as odoo_env
from devenv import paths, test_databases
from email_crm_sync.lib.imap_session import certificate_fingerprint

from ..conftest import OdooRpc

CALLBACK = '/email_crm_sync/oauth/callback'


class OauthCrm:

    def __init__(self, server, admin, oauth_server, dovecot, relay):
        self.server, self.admin, self.oauth = server, admin, oauth_server
        self.dovecot, self.relay = dovecot, relay
        self.client_id = 'crm-%s' % secrets.token_hex(4)
        self.client_secret = secrets.token_urlsafe(24)
        self.secrets = {self.client_secret}
        admin('ir.config_parameter', 'set_param', 'web.base.url', server.url)
        admin('ir.config_parameter', 'set_param', 'web.base.url.freeze', 'True')
        oauth_server.add_client(self.client_id, self.client_secret, [server.url + CALLBACK],
                                'openid email mail')
        self.app_id = admin('email.sync.oauth.app', 'create', {
            'name': 'Local sign-in', 'code': 'local', 'authorize_url': oauth_server.authorize_url,
            'token_url': oauth_server.token_url, 'revoke_url': oauth_server.revoke_url,
            'jwks_url': oauth_server.jwks_url, 'issuer': oauth_server.issuer,
            'scopes': 'openid email mail', 'client_id': self.client_id,
            'client_secret': self.client_secret})
        self.provider_id = admin('email.sync.provider', 'create', {
            'name': 'Local mail', 'code': 'local_oauth', 'oauth_app_id': self.app_id,
            'imap_host': dovecot.host, 'imap_port': dovecot.imaps_port, 'imap_security': 'ssl',
            'smtp_host': relay.host, 'smtp_port': relay.port, 'smtp_security': 'starttls'})
        with open(dovecot.cert_path, encoding='ascii') as handle:
            self.fingerprint = certificate_fingerprint(ssl.PEM_cert_to_DER_cert(handle.read()))

    def sql(self, query, *params):
        with psycopg2.connect(host=odoo_env.DB_HOST, port=odoo_env.DB_PORT, user=odoo_env.DB_USER,
                              dbname=self.server.db_name) as conn, conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None

    def stored_tokens(self, mailbox_id):
        """(refresh, access) as stored for a mailbox, decrypted; (None, None) if none."""
        rows = self.sql('SELECT refresh_ciphertext, access_ciphertext FROM email_sync_oauth_token '
                        'WHERE mailbox_id = %s', mailbox_id)
        if not rows:
            return None, None
        box = Fernet(_secret_key())
        found = tuple(box.decrypt(value.encode()).decode() if value else None for value in rows[0])
        self.secrets.update(value for value in found if value)
        return found

    def run(self, module, *args):
        """A devenv command on this server's database; its last line as JSON."""
        command = [paths.VENV_PYTHON, '-m', module, '--config', test_databases.CONFIG_PATH,
                   '--db', self.server.db_name] + [str(arg) for arg in args]
        done = subprocess.run(command, env=odoo_env.odoo_env(), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


def _secret_key():
    with open(os.path.join(test_databases.DATA_DIR, 'email_crm_sync', 'secret.key'), 'rb') as handle:
        return handle.read().strip()


class Salesperson:

    def __init__(self, crm, name):
        self.crm = crm
        self.address = '%s@oauth.test' % name
        self.password = name + '-odoo-pw'
        self.oauth_password = name + '-oauth-pw'
        self.imap_password = name + '-imap-pw'
        crm.secrets.update({self.oauth_password})
        crm.oauth.add_user(self.address, self.oauth_password)
        crm.dovecot.add_user(self.address, self.imap_password)
        group = crm.admin('ir.model.data', 'xmlid_to_res_id', 'base.group_user')
        crm.admin('res.users', 'create', {'name': name.title(), 'login': name, 'password': self.password,
                                          'email': self.address, 'groups_id': [(6, 0, [group])]})
        self.rpc = crm.admin.as_user(name, self.password)
        self.web = requests.Session()
        answer = self.web.post(crm.server.url + '/web/session/authenticate', json={
            'jsonrpc': '2.0', 'method': 'call', 'params': {
                'db': crm.server.db_name, 'login': name, 'password': self.password}}, timeout=30)
        assert answer.json().get('result', {}).get('uid'), answer.text[:300]

    def create_mailbox(self, **values):
        values = dict({'name': 'Work', 'provider_id': self.crm.provider_id, 'auth_method': 'oauth',
                       'tls_trusted_fingerprint': self.crm.fingerprint, 'lookback': 'all'}, **values)
        return self.rpc('email.sync.mailbox', 'create', values)

    def mailbox(self, mailbox_id):
        return self.rpc('email.sync.mailbox', 'read', [mailbox_id])[0]

    # --- signing in, as the browser does it --------------------------------------
    def press_sign_in(self, mailbox_id):
        """The "Sign in" button: returns the provider URL the browser is sent to."""
        answer = self.web.post(self.crm.server.url + '/web/dataset/call_button', json={
            'jsonrpc': '2.0', 'method': 'call', 'params': {
                'model': 'email.sync.mailbox', 'method': 'action_oauth_sign_in',
                'args': [[mailbox_id], {}]}}, timeout=30).json()
        assert 'result' in answer, answer.get('error')
        assert answer['result']['type'] == 'ir.actions.act_url'
        return answer['result']['url']

    def consent(self, url, allow=True, login=None, password=None):
        """The provider's page: sign in and Allow (or Deny). Returns the URL
        the provider sends the browser back to."""
        page = self.web.get(url, timeout=30)
        assert page.status_code == 200, page.text[:300]
        answer = self.web.post(page.url, data={
            'login': login or self.address, 'password': password or self.oauth_password,
            'allow' if allow else 'deny': '1'}, allow_redirects=False, timeout=30)
        assert answer.status_code == 302, answer.text[:300]
        back = answer.headers['Location']
        assert back.startswith(self.crm.server.url + CALLBACK), back
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))
        self.crm.secrets.update(value for key, value in query.items() if key in ('code', 'state'))
        return back

    def come_back(self, callback_url, web=None):
        """The browser opening the callback: (status, Location or page text)."""
        answer = (web or self.web).get(callback_url, allow_redirects=False, timeout=60)
        if answer.status_code in (302, 303):
            return answer.status_code, answer.headers['Location']
        return answer.status_code, answer.text

    def sign_in(self, mailbox_id, **consent):
        status, where = self.come_back(self.consent(self.press_sign_in(mailbox_id), **consent))
        assert status == 303, where[-2000:]
        return where

    # --- syncing ---------------------------------------------------------------------
    def sync(self, mailbox_id):
        return self.crm.run('devenv.run_sync', '--mailbox', mailbox_id, '--budget', 300, '--until-done')

    def deliver(self, count, tag):
        """Append ``count`` messages to this person's INBOX; returns their Message-IDs."""
        ids = []
        with self.crm.dovecot.imap_client(self.address, self.imap_password) as client:
            for number in range(count):
                message_id = '%s-%d@customer.example' % (tag, number)
                raw = ('From: Casey Customer <casey@customer.example>\r\nTo: %s\r\n'
                       'Subject: %s %d\r\nMessage-ID: <%s>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n'
                       '\r\nHello %d\r\n' % (self.address, tag, number, message_id, number))
                client.append('INBOX', raw.encode())
                ids.append(message_id)
        return ids

    def stored_message_ids(self, mailbox_id):
        return [row[0] for row in self.crm.sql(
            'SELECT message_id FROM email_sync_message WHERE mailbox_id = %s', mailbox_id)]


@pytest.fixture(scope='session')
def oauth_crm(odoo_config, clone_db, oauth_server, oauth_dovecot, oauth_smtp_relay):
    with odoo_env.OdooServer(odoo_config, clone_db(),
                             extra_args=['--max-cron-threads=0', '--log-level=info']) as server:
        admin = OdooRpc(server.url, server.db_name, 'admin', 'admin')
        yield OauthCrm(server, admin, oauth_server, oauth_dovecot, oauth_smtp_relay)
