"""A private Dovecot instance (IMAP, IMAPS, LMTP) on 127.0.0.1.

Everything lives under one run directory: the generated dovecot.conf, the
passwd-file, the TLS certificate, Dovecot's base_dir/state_dir/log and the
maildirs. Nothing under /etc/dovecot is read, so several instances (one per
run directory, each on its own ports) can run side by side.
"""
import base64
import email.parser
import email.utils
import hashlib
import imaplib
import os
import signal
import smtplib
import socket
import ssl
import stat
import subprocess
import time
import urllib.parse

from .certs import ensure_self_signed_cert
from .paths import free_port, wait_for_port
from . import procs

DOVECOT_BIN = '/usr/sbin/dovecot'
# Debian's `mail` user owns the maildirs; Dovecot refuses uid 0 for mail.
MAIL_UID = 8
MAIL_GID = 8
# Unix sockets live under base_dir (e.g. base_dir/token-login/imap-urlauth)
# and sun_path holds 108 bytes: keep room for the longest socket name.
MAX_BASE_DIR_LEN = 80

SPECIAL_USE_FOLDERS = (
    ('Sent', r'\Sent'),
    ('Drafts', r'\Drafts'),
    ('Trash', r'\Trash'),
    ('Archive', r'\Archive'),
    ('Junk', r'\Junk'),
)

CONFIG_TEMPLATE = """\
# Written by devenv.dovecot at every start: edit the generator, not this file.
instance_name = {instance_name}
base_dir = {base_dir}
state_dir = {state_dir}
log_path = {log_path}
# Loopback only: no IPv6 wildcard, nothing reachable from outside.
listen = 127.0.0.1
protocols = imap lmtp
default_internal_user = dovecot
default_login_user = dovenull
# Mail runs as Debian's `mail` (uid 8), below Dovecot's default of 500.
first_valid_uid = {mail_uid}
last_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
last_valid_gid = {mail_gid}

# Plaintext LOGIN/AUTH PLAIN are fine on loopback; tests need both.
disable_plaintext_auth = no
auth_mechanisms = {auth_mechanisms}
# The 2 s default would make every wrong-password test wait (Dovecot still
# answers failures on its 0.5 s timer tick).
auth_failure_delay = 0
# Nor the per-IP penalty that grows to 15 s after repeated failures: every
# test client comes from 127.0.0.1. (Dovecot's documented way to disable it.)
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
# Sync workers and benchmarks open many connections per user.
mail_max_userip_connections = 200

ssl = yes
ssl_cert = <{cert_path}
ssl_key = <{key_path}
{oauth2_passdb}
passdb {{
  driver = passwd-file
  args = scheme=SSHA512 {passwd_path}
}}
# Static userdb: every passdb user gets the same uid and a home in the run
# directory. Dovecot still asks the passdb whether the user exists, so LMTP
# rejects unknown recipients.
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={mail_root}/%u
}}
mail_location = maildir:~/Maildir

namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@localhost
}}
"""

# Bearer tokens (XOAUTH2, OAUTHBEARER) are checked by the OAuth server's
# token introspection, and only by it: this passdb comes first, takes only
# the token mechanisms, and its verdict is final, so a token never meets
# the passwd-file (nor a password the OAuth server). Password logins skip
# it and go on to the passwd-file as before.
OAUTH2_PASSDB_TEMPLATE = """
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {oauth2_conf_path}
  result_failure = return-fail
  result_internalfail = return-fail
}}
"""

# The passdb's own settings file. Client credentials for the introspection
# endpoint go in the URL: in introspection_mode = post, Dovecot 2.3 sends
# them as HTTP Basic authentication from there (its client_id and
# client_secret settings are not sent in this mode). Mind that auth_debug
# would log that URL, secret and all, on every XOAUTH2 login.
OAUTH2_CONF_TEMPLATE = """\
# Written by devenv.dovecot at every start: edit the generator, not this file.
introspection_mode = post
introspection_url = {introspection_url}
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 10000
"""

MAILBOX_TEMPLATE = """\
  mailbox {name} {{
    special_use = {flag}
    auto = subscribe
  }}"""


def _ssha512(password):
    """Dovecot's {SSHA512} scheme: base64(sha512(password + salt) + salt)."""
    salt = os.urandom(16)
    digest = hashlib.sha512(password.encode('utf-8') + salt).digest()
    return '{SSHA512}' + base64.b64encode(digest + salt).decode('ascii')


def _check_login(login):
    # passwd-file is colon separated, and the login becomes a directory name.
    if not login or any(c in login for c in ':/\n\r\0') or login.startswith('.'):
        raise ValueError('unusable login for a passwd-file: %r' % (login,))


def _check_traversable_by_mail_user(path):
    """Dovecot's mail processes run as uid 8: every parent directory of the
    run directory must let them through, or logins fail with an obscure
    'Permission denied' in the log. Say so up front instead."""
    path = os.path.abspath(path)
    while True:
        st = os.stat(path)
        if not (st.st_mode & stat.S_IXOTH
                or (st.st_uid == MAIL_UID and st.st_mode & stat.S_IXUSR)
                or (st.st_gid == MAIL_GID and st.st_mode & stat.S_IXGRP)):
            raise PermissionError(
                '%s is not searchable by the mail user (uid %d); Dovecot '
                'needs o+x on every parent of its run directory' % (path, MAIL_UID))
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


class Dovecot(procs.ServiceLifecycle):
    log_name = 'dovecot log'
    host = '127.0.0.1'

    def __init__(self, run_dir, imap_port=None, imaps_port=None, lmtp_port=None, oauth2=None):
        """oauth2: also take XOAUTH2 and OAUTHBEARER logins, their bearer
        token checked by token introspection: a dict with introspection_url,
        client_id and client_secret (what OAuthServer.dovecot_settings()
        returns). The token's user must be the login; password logins work
        as without it."""
        self.run_dir = os.path.abspath(run_dir)
        if oauth2 is not None:
            missing = {'introspection_url', 'client_id', 'client_secret'} - set(oauth2)
            if missing:
                raise ValueError('oauth2 settings lack %s' % ', '.join(sorted(missing)))
            oauth2 = dict(oauth2)
        self.oauth2 = oauth2
        self.imap_port = imap_port or free_port()
        self.imaps_port = imaps_port or free_port()
        self.lmtp_port = lmtp_port or free_port()
        self.config_path = os.path.join(self.run_dir, 'dovecot.conf')
        self.passwd_path = os.path.join(self.run_dir, 'passwd')
        self.base_dir = os.path.join(self.run_dir, 'run')
        self.state_dir = os.path.join(self.run_dir, 'state')
        self.log_path = os.path.join(self.run_dir, 'dovecot.log')
        self.mail_root = os.path.join(self.run_dir, 'mail')
        self.certs_dir = os.path.join(self.run_dir, 'certs')
        self.cert_path = os.path.join(self.certs_dir, 'localhost.crt')
        self.key_path = os.path.join(self.certs_dir, 'localhost.key')
        self.oauth2_conf_path = os.path.join(self.run_dir, 'dovecot-oauth2.conf.ext')
        if len(self.base_dir) > MAX_BASE_DIR_LEN:
            raise ValueError('run directory path too long for Dovecot unix sockets '
                             '(base_dir %r is over %d chars)' % (self.base_dir, MAX_BASE_DIR_LEN))

    # -- users -------------------------------------------------------------

    def _read_passwd(self):
        entries = {}
        try:
            with open(self.passwd_path, encoding='utf-8') as f:
                for line in f:
                    login, sep, rest = line.rstrip('\n').partition(':')
                    if sep:
                        entries[login] = rest
        except FileNotFoundError:
            pass
        return entries

    def _write_passwd(self, entries):
        os.makedirs(self.run_dir, exist_ok=True)
        try:
            old_mtime = int(os.stat(self.passwd_path).st_mtime)
        except FileNotFoundError:
            old_mtime = 0
        tmp = self.passwd_path + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            for login, rest in sorted(entries.items()):
                f.write('%s:%s\n' % (login, rest))
        # Dovecot's auth process runs as the `dovecot` user and reads the
        # file itself: let its group read it, nobody else.
        try:
            os.chown(tmp, 0, _dovecot_gid())
        except (PermissionError, KeyError):
            pass
        os.chmod(tmp, 0o640)
        # Dovecot notices a changed passwd-file by its whole-second mtime and
        # its size; a new password for an existing user keeps the size, so
        # make sure the mtime moves.
        mtime = max(int(time.time()), old_mtime + 1)
        os.utime(tmp, (mtime, mtime))
        # Atomic replace: the auth process must never see it half written.
        os.replace(tmp, self.passwd_path)
        if self.is_running():
            # The auth process stats the file at most once per second of its
            # own clock: a lookup in the same second as the previous one
            # would still use the old users. Let that second pass.
            _sleep_past_second(time.time())

    def add_user(self, login, password):
        """Add (or re-password) a mailbox user; works while running too
        (then it takes up to a second, until Dovecot is sure to see it)."""
        self.add_users({login: password})

    def add_users(self, users):
        """add_user for several {login: password} at once (one wait)."""
        for login in users:
            _check_login(login)
        entries = self._read_passwd()
        for login, password in users.items():
            entries[login] = _ssha512(password)
        self._write_passwd(entries)

    def users(self):
        return sorted(self._read_passwd())

    # -- lifecycle ---------------------------------------------------------

    def _prepare(self):
        os.makedirs(self.run_dir, exist_ok=True)
        os.chmod(self.run_dir, 0o755)
        _check_traversable_by_mail_user(self.run_dir)
        os.makedirs(self.mail_root, exist_ok=True)
        os.chown(self.mail_root, MAIL_UID, MAIL_GID)
        os.chmod(self.mail_root, 0o750)
        if not os.path.exists(self.passwd_path):
            self._write_passwd({})
        ensure_self_signed_cert(self.certs_dir)
        mailboxes = '\n'.join(MAILBOX_TEMPLATE.format(name=name, flag=flag)
                              for name, flag in SPECIAL_USE_FOLDERS)
        auth_mechanisms, oauth2_passdb = 'plain login', ''
        if self.oauth2:
            self._write_oauth2_conf()
            auth_mechanisms += ' xoauth2 oauthbearer'
            oauth2_passdb = OAUTH2_PASSDB_TEMPLATE.format(oauth2_conf_path=self.oauth2_conf_path)
        config = CONFIG_TEMPLATE.format(
            auth_mechanisms=auth_mechanisms, oauth2_passdb=oauth2_passdb,
            # Distinct instance names keep process titles telling apart which
            # instance a process belongs to (`dovecot-<dir>/imap-login`).
            instance_name='dovecot-' + os.path.basename(self.run_dir),
            base_dir=self.base_dir, state_dir=self.state_dir, log_path=self.log_path,
            mail_uid=MAIL_UID, mail_gid=MAIL_GID,
            cert_path=self.cert_path, key_path=self.key_path,
            passwd_path=self.passwd_path, mail_root=self.mail_root,
            mailboxes=mailboxes,
            imap_port=self.imap_port, imaps_port=self.imaps_port, lmtp_port=self.lmtp_port)
        with open(self.config_path, 'w', encoding='utf-8') as f:
            f.write(config)

    def _write_oauth2_conf(self):
        parts = urllib.parse.urlsplit(self.oauth2['introspection_url'])
        credentials = '%s:%s@' % (urllib.parse.quote(self.oauth2['client_id'], safe=''),
                                  urllib.parse.quote(self.oauth2['client_secret'], safe=''))
        url = urllib.parse.urlunsplit(parts._replace(netloc=credentials + parts.netloc))
        tmp = self.oauth2_conf_path + '.tmp'
        # It holds a client secret: the auth process (group dovecot) reads
        # it, nobody else.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(OAUTH2_CONF_TEMPLATE.format(introspection_url=url))
        try:
            os.chown(tmp, 0, _dovecot_gid())
        except (PermissionError, KeyError):
            pass
        os.replace(tmp, self.oauth2_conf_path)

    def master_pid(self):
        """The pid of this instance's master process, or None."""
        try:
            with open(os.path.join(self.base_dir, 'master.pid')) as f:
                pid = int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None
        # Guard against a stale pid file whose pid now belongs to another
        # program (or to another instance's master).
        cmdline = procs.cmdline(pid)
        if cmdline is None or self.config_path not in cmdline:
            return None
        return pid

    def is_running(self):
        return self.master_pid() is not None

    def process_ids(self):
        """The master and every process it spawned (login, auth, imap, ...)."""
        pid = self.master_pid()
        return procs.tree(pid) if pid else []

    def start(self):
        """Start the instance (a no-op if this run dir's one already runs)."""
        if self.is_running():
            return self
        self._prepare()
        # `dovecot` forks into the background once its listeners are bound;
        # its master pid lands in base_dir/master.pid. Its output goes to a
        # file, not a pipe: the daemon inherits the descriptors and would
        # hold a pipe open forever.
        startup_log = os.path.join(self.run_dir, 'dovecot.startup.log')
        with open(startup_log, 'wb') as out:
            rc = subprocess.call([DOVECOT_BIN, '-c', self.config_path],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        if rc != 0:
            with open(startup_log, encoding='utf-8', errors='replace') as f:
                output = f.read().strip()
            raise RuntimeError('dovecot failed to start (rc=%s): %s\n%s'
                               % (rc, output, self.log_tail()))
        try:
            # A connected port only proves the master listens; a greeting
            # proves the login and LMTP processes are up. Stopping while
            # they still start makes them wait 5 s for a stats handshake.
            _wait_for_greeting(self.host, self.imap_port, b'* OK', timeout=20)
            _wait_for_greeting(self.host, self.lmtp_port, b'220 ', timeout=20)
            wait_for_port(self.imaps_port, self.host, timeout=20)
            # The listeners may answer before the daemon has written
            # master.pid, and stop() needs that pid.
            deadline = time.monotonic() + 10
            while self.master_pid() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError('no master.pid')
                time.sleep(0.02)
        except TimeoutError:
            self.stop()
            raise RuntimeError('dovecot did not open its ports\n' + self.log_tail())
        return self

    def stop(self, timeout=15.0):
        """Stop the master and wait until it and all its children are gone."""
        pid = self.master_pid()
        if pid is None:
            return
        pids = procs.tree(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if not procs.wait_gone(pids, timeout):
            # A child stuck in I/O: don't leave it holding ports or files.
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            procs.wait_gone(pids, 5)
        for port in (self.imap_port, self.imaps_port, self.lmtp_port):
            procs.wait_port_closed(port, self.host, timeout=5)


    # -- clients -----------------------------------------------------------

    def auth_mechanisms(self):
        """The SASL mechanisms the running instance offers on its plain IMAP
        port (empty when it does not run)."""
        if not self.is_running():
            return set()
        with imaplib.IMAP4(self.host, self.imap_port, timeout=10) as conn:
            return {cap[5:] for cap in conn.capabilities if cap.startswith('AUTH=')}

    def ssl_context(self):
        """A client context that trusts exactly this instance's certificate,
        with hostname checks left on (the certificate names 127.0.0.1)."""
        return ssl.create_default_context(cafile=self.cert_path)

    def imap_client(self, login, password, tls='implicit'):
        """A logged-in imapclient.IMAPClient (usable as a context manager).

        tls: 'implicit' (IMAPS port), 'starttls' or 'none' (plain port).
        """
        import imapclient  # only the venv has it; keep `dovecot start` light
        if tls == 'implicit':
            client = imapclient.IMAPClient(self.host, port=self.imaps_port, ssl=True,
                                           ssl_context=self.ssl_context(), timeout=30)
        else:
            client = imapclient.IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=30)
            if tls == 'starttls':
                client.starttls(self.ssl_context())
        try:
            client.login(login, password)
        except Exception:
            client.shutdown()
            raise
        return client

    def append(self, login, password, folder, raw_bytes, flags=(), date=None):
        """APPEND one message (seeding); returns the server's response."""
        with self.imap_client(login, password) as client:
            return client.append(folder, raw_bytes, flags=flags, msg_time=date)

    def deliver(self, login, raw_message_bytes, sender=None):
        """Deliver like an MTA would, over LMTP; the message lands in INBOX
        (with Return-Path and Delivered-To added by Dovecot)."""
        if sender is None:
            headers = email.parser.BytesHeaderParser().parsebytes(raw_message_bytes)
            sender = email.utils.parseaddr(str(headers.get('From', '')))[1]
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=30) as lmtp:
            refused = lmtp.sendmail(sender, [login], raw_message_bytes)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)


def _wait_for_greeting(host, port, prefix, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=2) as sock:
                if sock.makefile('rb').readline().startswith(prefix):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError('no greeting on %s:%s' % (host, port))
        time.sleep(0.05)


def _sleep_past_second(t):
    time.sleep(int(t) + 1 - time.time() + 0.01)


def _dovecot_gid():
    import grp
    return grp.getgrnam('dovecot').gr_gid
