"""A development SMTP server that hands every accepted message to Dovecot.

It plays the outgoing mail server the addon sends through: it listens on
127.0.0.1, optionally wants AUTH PLAIN/LOGIN (checked against Dovecot by an
IMAP login, or against a users file) or AUTH XOAUTH2 (the bearer token
checked by an IMAP AUTHENTICATE XOAUTH2 against the same Dovecot, as Gmail
and Outlook take it), offers STARTTLS, and delivers over LMTP
to the recipients that are Dovecot users. Anyone else is refused at RCPT with
550, so a test sending to a wrong address fails loudly instead of the mail
vanishing.

Runs as its own process (``python -m devenv.smtp_relay --port P --lmtp-port
L``) so a hanging test cannot wedge it, and so `python -m devenv smtp start`
can leave it running; `SmtpRelay` starts and stops that process.
"""
import argparse
import asyncio
import base64
import binascii
import email.utils
import imaplib
import json
import logging
import os
import re
import signal
import smtplib
import ssl
import sys

from .certs import ensure_self_signed_cert
from .paths import VENV_PYTHON, DEV_DIR, free_port
from . import procs

HOST = '127.0.0.1'
log = logging.getLogger('devenv.smtp_relay')


# -- recipients and delivery (blocking; run in the loop's executor) ----------

def recipient_login(address, local_domains):
    """The Dovecot login an envelope recipient maps to.

    alice@localhost -> alice when localhost is a local domain; any other
    address is looked up as it is (logins may be full addresses).
    """
    local, _, domain = address.rpartition('@')
    if local and domain.lower() in local_domains:
        return local
    return address


def lmtp_verify(lmtp_port, login):
    """Ask Dovecot whether it would accept mail for login: (code, message).

    A callout rather than a copy of Dovecot's user list, so users added to
    Dovecot later are known at once.
    """
    with smtplib.LMTP(HOST, lmtp_port, timeout=30) as lmtp:
        lmtp.ehlo_or_helo_if_needed()
        lmtp.mail('')
        code, msg = lmtp.rcpt(login)
        lmtp.rset()
    return code, msg.decode('utf-8', 'replace')


def lmtp_deliver(lmtp_port, sender, logins, data):
    """Deliver one message to several logins in one LMTP transaction.

    LMTP answers DATA once per recipient, and smtplib's data() reads only
    one answer, so DATA is spoken here. Returns {login: (code, msg)}.
    """
    with smtplib.LMTP(HOST, lmtp_port, timeout=60) as lmtp:
        lmtp.ehlo_or_helo_if_needed()
        code, msg = lmtp.mail(sender)
        if code != 250:
            return {login: (code, msg) for login in logins}
        results, accepted = {}, []
        for login in logins:
            code, msg = lmtp.rcpt(login)
            if code == 250:
                accepted.append(login)
            else:
                results[login] = (code, msg)
        if not accepted:
            return results
        code, msg = lmtp.docmd('DATA')
        if code != 354:
            results.update((login, (code, msg)) for login in accepted)
            return results
        lmtp.send(_dot_stuffed(data))
        # One answer per accepted recipient, in RCPT order.
        for login in accepted:
            results[login] = lmtp.getreply()
    return results


def _dot_stuffed(data):
    """The DATA payload: CRLF line ends, leading dots doubled, final dot."""
    data = re.sub(rb'\r?\n', b'\r\n', data)
    data = re.sub(rb'(?m)^\.', b'..', data)
    if not data.endswith(b'\r\n'):
        data += b'\r\n'
    return data + b'.\r\n'


# -- authentication --------------------------------------------------------

def _imap_login_check(imap_port, log_in):
    """A check(login, secret) that is true when ``log_in(connection, login,
    secret)`` succeeds on Dovecot's plain IMAP port (loopback only)."""
    def check(login, secret):
        try:
            conn = imaplib.IMAP4(HOST, imap_port, timeout=30)
        except OSError:
            log.exception('IMAP server for AUTH checks unreachable')
            return False
        try:
            log_in(conn, login, secret)
        except imaplib.IMAP4.error:
            conn.shutdown()
            return False
        conn.logout()
        return True
    return check


def imap_password_check(imap_port):
    """Check SMTP credentials by an IMAP LOGIN (plaintext is allowed there)."""
    return _imap_login_check(imap_port, lambda conn, login, password: conn.login(login, password))


def xoauth2_string(login, token):
    """The XOAUTH2 initial client response (before base64)."""
    return ('user=%s\x01auth=Bearer %s\x01\x01' % (login, token)).encode('utf-8')


def parse_xoauth2(blob):
    """(login, token) from a decoded XOAUTH2 client response, or None."""
    try:
        text = blob.decode('utf-8')
    except UnicodeDecodeError:
        return None
    fields = dict(part.partition('=')[::2] for part in text.split('\x01') if part)
    scheme, _, token = fields.get('auth', '').partition(' ')
    if not fields.get('user') or scheme.lower() != 'bearer' or not token.strip():
        return None
    return fields['user'], token.strip()


def imap_bearer_check(imap_port):
    """Check an XOAUTH2 bearer token by authenticating with it to Dovecot,
    which asks the OAuth server (token introspection)."""
    def authenticate(conn, login, token):
        answers = iter([xoauth2_string(login, token)])
        # A refused token gets one more challenge (the JSON error); XOAUTH2
        # wants an empty answer to it.
        conn.authenticate('XOAUTH2', lambda challenge: next(answers, b''))
    return _imap_login_check(imap_port, authenticate)


def dict_password_check(users):
    def check(login, password):
        return login in users and users[login] == password
    return check


def make_authenticator(password_check):
    """An aiosmtpd authenticator for the built-in PLAIN and LOGIN."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode('utf-8', 'replace')
        password = auth_data.password.decode('utf-8', 'replace')
        # Called synchronously by aiosmtpd: an IMAP login on loopback takes
        # milliseconds, acceptable for a development server.
        ok = password_check(login, password)
        log.info('AUTH %s for %s: %s', mechanism, login, 'ok' if ok else 'refused')
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)
    return authenticator


# -- the SMTP handler --------------------------------------------------------

# Sent base64-encoded before refusing a token, as Gmail does.
XOAUTH2_ERROR = json.dumps({'status': '401', 'schemes': 'bearer',
                            'scope': 'https://mail.google.com/'})


class RelayHandler:
    """bearer_check(login, token) -> bool: offers AUTH XOAUTH2 (aiosmtpd
    finds mechanisms by their auth_ method names, on the handler too)."""

    def __init__(self, lmtp_port, local_domains=('localhost',), bearer_check=None):
        self.lmtp_port = lmtp_port
        self.local_domains = {d.lower() for d in local_domains}
        self.bearer_check = bearer_check

    async def auth_XOAUTH2(self, server, args):
        from aiosmtpd.smtp import AuthResult, MISSING
        if len(args) == 1:
            blob = await server.challenge_auth('')
            if blob is MISSING:
                return AuthResult(success=False, handled=True)  # 501 already sent
        else:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        parsed = parse_xoauth2(blob)
        if parsed is None:
            await server.push('501 5.5.2 Malformed XOAUTH2 response')
            return AuthResult(success=False, handled=True)
        login, token = parsed
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, self.bearer_check, login, token)
        log.info('AUTH XOAUTH2 for %s: %s', login, 'ok' if ok else 'refused')
        if ok:
            return AuthResult(success=True, auth_data=login)
        # The XOAUTH2 protocol: an error challenge, an empty answer, then 535.
        if await server.challenge_auth(XOAUTH2_ERROR) is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False,
                          message='535 5.7.8 Username and token not accepted')

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        login = recipient_login(address, self.local_domains)
        loop = asyncio.get_running_loop()
        try:
            code, msg = await loop.run_in_executor(None, lmtp_verify, self.lmtp_port, login)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning('LMTP check for %s failed: %s', address, exc)
            return '451 4.3.0 mailbox server unavailable, try again later'
        if code == 250:
            envelope.rcpt_tos.append(address)
            return '250 2.1.5 OK'
        if 400 <= code < 500:
            return '451 4.3.0 <%s>: %s' % (address, msg)
        return '550 5.1.1 <%s>: no such mailbox here' % address

    async def handle_DATA(self, server, session, envelope):
        logins = []
        for address in envelope.rcpt_tos:
            login = recipient_login(address, self.local_domains)
            if login not in logins:
                logins.append(login)
        data = self._received_header(session, envelope) + envelope.original_content
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(
                None, lmtp_deliver, self.lmtp_port, envelope.mail_from or '', logins, data)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning('LMTP delivery failed: %s', exc)
            return '451 4.3.0 delivery to the mailbox server failed, try again later'
        failed = {login: r for login, r in results.items() if r[0] != 250}
        if failed:
            log.warning('LMTP refused %s', failed)
            return '451 4.3.0 not delivered to: %s' % ', '.join(sorted(failed))
        log.info('delivered from <%s> to %s (%d bytes)', envelope.mail_from,
                 ', '.join(logins), len(data))
        return '250 2.0.0 OK delivered'

    @staticmethod
    def _received_header(session, envelope):
        # The trace header every MTA adds: tests and the addon see the relay.
        protocol = 'ESMTP'
        if session.ssl:
            protocol += 'S'
        if session.authenticated:
            protocol += 'A'
        peer = session.peer[0] if session.peer else 'unknown'
        header = ('Received: from %s ([%s])\r\n'
                  '\tby localhost (devenv smtp relay) with %s;\r\n\t%s\r\n'
                  % (session.host_name or 'unknown', peer, protocol,
                     email.utils.format_datetime(email.utils.localtime())))
        return header.encode('ascii', 'replace')


# -- the process ---------------------------------------------------------------

def _tls_context(cert_path, key_path):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


async def serve(port, lmtp_port, pidfile=None, local_domains=('localhost',),
                require_auth=False, password_check=None, tls_cert=None, tls_key=None,
                bearer_check=None):
    from aiosmtpd.smtp import SMTP
    loop = asyncio.get_running_loop()
    handler = RelayHandler(lmtp_port, local_domains, bearer_check)
    kwargs = dict(hostname='localhost', enable_SMTPUTF8=True, decode_data=False,
                  data_size_limit=64 * 1024 * 1024, loop=loop,
                  # Plaintext AUTH is fine on loopback; clients may still
                  # use STARTTLS first.
                  auth_require_tls=False, auth_required=require_auth,
                  auth_exclude_mechanism=[] if bearer_check else ['XOAUTH2'])
    if password_check is not None:
        kwargs['authenticator'] = make_authenticator(password_check)
    if tls_cert:
        kwargs['tls_context'] = _tls_context(tls_cert, tls_key)
    server = await loop.create_server(lambda: SMTP(handler, **kwargs), host=HOST, port=port)
    if pidfile:
        with open(pidfile, 'w') as f:
            f.write('%d\n' % os.getpid())
    log.info('listening on %s:%s, delivering over LMTP to %s:%s', HOST, port, HOST, lmtp_port)
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await stopping.wait()
    finally:
        server.close()
        if pidfile:
            procs.remove_own_pidfile(pidfile)
    log.info('stopped')


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m devenv.smtp_relay',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--lmtp-port', type=int, required=True)
    parser.add_argument('--pidfile')
    parser.add_argument('--local-domain', action='append', dest='local_domains',
                        help='domain whose addresses map to the bare login (default: localhost)')
    parser.add_argument('--require-auth', action='store_true')
    parser.add_argument('--auth-imap-port', type=int,
                        help='check AUTH credentials by an IMAP login on this port')
    parser.add_argument('--auth-xoauth2', action='store_true',
                        help='offer AUTH XOAUTH2, the token checked by an IMAP '
                             'AUTHENTICATE XOAUTH2 on --auth-imap-port')
    parser.add_argument('--auth-users-file',
                        help='check AUTH credentials against this JSON {login: password}')
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format='%(asctime)s %(name)s %(levelname)s %(message)s')
    password_check = bearer_check = None
    if args.auth_users_file:
        with open(args.auth_users_file, encoding='utf-8') as f:
            password_check = dict_password_check(json.load(f))
    elif args.auth_imap_port:
        password_check = imap_password_check(args.auth_imap_port)
        if args.auth_xoauth2:
            bearer_check = imap_bearer_check(args.auth_imap_port)
    if args.require_auth and password_check is None:
        parser.error('--require-auth needs --auth-imap-port or --auth-users-file')
    asyncio.run(serve(args.port, args.lmtp_port, args.pidfile,
                      tuple(args.local_domains or ('localhost',)),
                      args.require_auth, password_check, args.tls_cert, args.tls_key,
                      bearer_check))


# -- controlling the process -------------------------------------------------

class SmtpRelay(procs.PythonService):
    """Starts and stops the relay process; its files live in run_dir.

    dovecot: a devenv.dovecot.Dovecot to deliver into (gives the LMTP port)
    and, unless users are given, to check AUTH against by IMAP login (AUTH
    XOAUTH2 too, if that Dovecot takes OAuth2 tokens).
    users: {login: password} to check AUTH against instead.
    require_auth: refuse MAIL FROM before a successful AUTH.
    """
    log_name = 'relay log'
    module = 'devenv.smtp_relay'
    host = HOST

    def __init__(self, run_dir, port=None, lmtp_port=None, dovecot=None, users=None,
                 require_auth=False, local_domains=('localhost',), tls=True):
        if lmtp_port is None:
            if dovecot is None:
                raise ValueError('need lmtp_port or dovecot')
            lmtp_port = dovecot.lmtp_port
        self.run_dir = os.path.abspath(run_dir)
        self.port = port or free_port()
        self.lmtp_port = lmtp_port
        self.dovecot = dovecot
        self.users = users
        self.require_auth = require_auth
        self.local_domains = tuple(local_domains)
        self.tls = tls
        self.pidfile = os.path.join(self.run_dir, 'smtp-relay.pid')
        self.log_path = os.path.join(self.run_dir, 'smtp-relay.log')
        self.users_path = os.path.join(self.run_dir, 'smtp-relay-users.json')
        self.cert_path = self.key_path = None
        self._proc = None

    def command(self):
        cmd = [VENV_PYTHON, '-m', 'devenv.smtp_relay', '--port', str(self.port),
               '--lmtp-port', str(self.lmtp_port), '--pidfile', self.pidfile]
        for domain in self.local_domains:
            cmd += ['--local-domain', domain]
        if self.users is not None:
            cmd += ['--auth-users-file', self.users_path]
        elif self.dovecot is not None:
            cmd += ['--auth-imap-port', str(self.dovecot.imap_port)]
            if 'XOAUTH2' in self.dovecot.auth_mechanisms():
                cmd.append('--auth-xoauth2')
        if self.require_auth:
            cmd.append('--require-auth')
        if self.tls:
            self._ensure_cert()
            cmd += ['--tls-cert', self.cert_path, '--tls-key', self.key_path]
        return cmd

    def _ensure_cert(self):
        # Share Dovecot's certificate when there is one: clients then trust
        # a single CA file for IMAP and SMTP alike.
        certs_dir = self.dovecot.certs_dir if self.dovecot else os.path.join(self.run_dir, 'certs')
        self.cert_path, self.key_path = ensure_self_signed_cert(certs_dir)

    def ssl_context(self):
        """A client context trusting this relay's STARTTLS certificate."""
        self._ensure_cert()
        return ssl.create_default_context(cafile=self.cert_path)

    def start(self):
        if self.is_running():
            return self
        os.makedirs(self.run_dir, exist_ok=True)
        if self.users is not None:
            fd = os.open(self.users_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                json.dump(self.users, f)
        return self._spawn(DEV_DIR)



if __name__ == '__main__':
    main()
