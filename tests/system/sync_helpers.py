"""Shared steps of the sync system tests: a salesperson with a mailbox on the
test Dovecot, a sync run in a process of its own, and what got stored."""
import email
import email.policy
import json
import subprocess
import time

import psycopg2

from devenv import odoo as odoo_env
from devenv import paths
from devenv.demo_mail import generate_raw_messages
from devenv import test_databases


class SyncedMailbox:
    """A Dovecot user, an Odoo user owning a mailbox on it, and ways to look at both."""

    def __init__(self, admin_rpc, dovecot, fingerprint, login, lookback='all'):
        self.admin, self.dovecot, self.login = admin_rpc, dovecot, login
        self.password = login + '-mail-pw'
        dovecot.add_user(login, self.password)
        group = admin_rpc('ir.model.data', 'xmlid_to_res_id', 'base.group_user')
        self.user_id = admin_rpc('res.users', 'create', {
            'name': login.title(), 'login': login, 'password': login + '-pw',
            'email': '%s@localhost' % login, 'groups_id': [(6, 0, [group])]})
        self.rpc = admin_rpc.as_user(login, login + '-pw')
        custom = self.rpc('ir.model.data', 'xmlid_to_res_id', 'email_crm_sync.email_sync_provider_custom')
        self.mailbox_id = self.rpc('email.sync.mailbox', 'create', {
            'name': 'Work', 'email': '%s@localhost' % login, 'provider_id': custom,
            'imap_host': dovecot.host, 'imap_port': dovecot.imaps_port, 'imap_security': 'ssl',
            'login': login, 'password': self.password, 'tls_trusted_fingerprint': fingerprint,
            'lookback': lookback})
        self.rpc('email.sync.mailbox', 'action_test_connection', [self.mailbox_id])
        assert self.mailbox()['state'] == 'ok', self.mailbox()['last_error']

    # --- the server side ----------------------------------------------
    def imap(self):
        return self.dovecot.imap_client(self.login, self.password)

    def seed(self, count, seed=1, folder_of=None):
        """Append generated mail; returns the Message-IDs per folder."""
        ids = {}
        with self.imap() as client:
            for raw in generate_raw_messages(count, seed=seed, owner_address='%s@localhost' % self.login):
                folder = folder_of(raw) if folder_of else 'INBOX'
                client.append(folder, raw)
                ids.setdefault(folder, []).append(_message_id(raw))
        return ids

    def server_message_ids(self, folders=('INBOX', 'Sent', 'Archive')):
        found = set()
        with self.imap() as client:
            for folder in folders:
                client.select_folder(folder, readonly=True)
                uids = client.search('ALL')
                for data in client.fetch(uids, ['BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]']).values():
                    header = data[b'BODY[HEADER.FIELDS (MESSAGE-ID)]'].decode()
                    found.add(header.split(':', 1)[1].strip().strip('<>'))
        return found

    # --- the CRM side -------------------------------------------------
    def mailbox(self):
        return self.rpc('email.sync.mailbox', 'read', [self.mailbox_id])[0]

    def sync(self, budget=600, until_done=True, timeout=600):
        command = [paths.VENV_PYTHON, '-m', 'devenv.run_sync', '--config', test_databases.CONFIG_PATH,
                   '--db', self.admin.db, '--mailbox', str(self.mailbox_id), '--budget', str(budget)]
        if until_done:
            command.append('--until-done')
        done = subprocess.run(command, env=odoo_env.odoo_env(), capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def sync_process(self, budget=600, capture=False):
        command = [paths.VENV_PYTHON, '-m', 'devenv.run_sync', '--config', test_databases.CONFIG_PATH,
                   '--db', self.admin.db, '--mailbox', str(self.mailbox_id), '--budget', str(budget),
                   '--until-done']
        return subprocess.Popen(command, env=odoo_env.odoo_env(), stderr=subprocess.DEVNULL,
                                stdout=subprocess.PIPE if capture else subprocess.DEVNULL, text=True)

    def sql(self, query, *params):
        with psycopg2.connect(host=odoo_env.DB_HOST, port=odoo_env.DB_PORT, user=odoo_env.DB_USER,
                              dbname=self.admin.db) as conn, conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None

    def stored_message_ids(self, active_only=True):
        rows = self.sql('SELECT message_id FROM email_sync_message WHERE mailbox_id = %s'
                        + (' AND active' if active_only else ''), self.mailbox_id)
        return [r[0] for r in rows]

    def stored_links(self):
        """{folder name: sorted UIDs} as stored."""
        rows = self.sql("""
            SELECT f.name, l.uid FROM email_sync_message_folder l
            JOIN email_sync_folder f ON f.id = l.folder_id
            WHERE f.mailbox_id = %s""", self.mailbox_id)
        links = {}
        for name, uid in rows:
            links.setdefault(name, []).append(int(uid))
        return {name: sorted(uids) for name, uids in links.items()}

    def server_links(self, folders=('INBOX', 'Sent', 'Archive')):
        links = {}
        with self.imap() as client:
            for folder in folders:
                client.select_folder(folder, readonly=True)
                uids = sorted(client.search('ALL'))
                if uids:
                    links[folder] = uids
        return links


def _message_id(raw):
    for line in raw.split(b'\r\n' if b'\r\n' in raw else b'\n'):
        if line.lower().startswith(b'message-id:'):
            return line.split(b':', 1)[1].strip().strip(b'<>').decode()
        if not line.strip():
            break
    return None


def received(dovecot, login, password, subject, timeout=20):
    """The newest message with ``subject`` in ``login``'s INBOX, as a mail client
    gets it, waiting for delivery up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    with dovecot.imap_client(login, password) as client:
        while True:
            client.select_folder('INBOX', readonly=True)
            uids = client.search(['SUBJECT', subject])
            if uids:
                raw = client.fetch(uids[-1:], ['BODY.PEEK[]'])[uids[-1]][b'BODY[]']
                return email.message_from_bytes(raw, policy=email.policy.default)
            assert time.monotonic() < deadline, 'not delivered: %s' % subject
            time.sleep(0.3)
