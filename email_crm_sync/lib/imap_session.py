"""The one place that opens IMAP connections.

``open_session(settings)`` connects with the chosen security (implicit TLS,
STARTTLS, or none), checks the certificate (normally against the system's
trusted authorities, or against a fingerprint the user chose to trust) and
logs in. It returns an ``ImapSession`` that answers with plain Python values.
Every failure comes out as a ``connection_errors.ConnectionProblem``.
"""
import functools
import hashlib
import socket
import ssl
from dataclasses import dataclass

import imapclient
import imapclient.exceptions

from . import connection_errors, special_use

SSL = 'ssl'
STARTTLS = 'starttls'
PLAIN = 'none'

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    security: str
    login: str
    password: str
    timeout: float = DEFAULT_TIMEOUT
    # SHA-256 fingerprint ("AB:CD:...") of a certificate the user trusts even
    # though no authority vouches for it (self-signed company servers).
    trusted_fingerprint: str = ''
    # An OAuth2 access token: log in with SASL XOAUTH2 instead of the password.
    oauth2_token: str = ''

    def __repr__(self):
        # Never let the password or the token reach a log or an error report.
        return 'ServerSettings(host=%r, port=%r, security=%r, login=%r)' % (
            self.host, self.port, self.security, self.login)


@dataclass(frozen=True)
class FolderInfo:
    name: str
    delimiter: str
    flags: tuple
    special_use: str
    selectable: bool


def certificate_fingerprint(der_bytes):
    digest = hashlib.sha256(der_bytes).hexdigest().upper()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def normalise_fingerprint(text):
    hex_digits = ''.join(ch for ch in (text or '').upper() if ch in '0123456789ABCDEF')
    return ':'.join(hex_digits[i:i + 2] for i in range(0, len(hex_digits), 2))


@functools.lru_cache(maxsize=2)
def _ssl_context(pinned):
    """One context per process and mode: building one loads the system's
    certificate store (about 20 ms), and a context serves any number of
    connections."""
    context = ssl.create_default_context()
    if pinned:
        # Verified by fingerprint after the handshake instead (see _check_pin).
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _check_pin(client, settings):
    if not settings.trusted_fingerprint:
        return
    der = client.socket().getpeercert(binary_form=True)
    seen = certificate_fingerprint(der)
    if seen != normalise_fingerprint(settings.trusted_fingerprint):
        raise connection_errors.ConnectionProblem(
            connection_errors.CERTIFICATE,
            'The security certificate of %s has changed since you trusted it. Someone may be '
            'intercepting the connection, or the server got a new certificate: check with '
            'your administrator before trusting the new fingerprint below.' % settings.host,
            fingerprint=seen)


def fetch_presented_fingerprint(host, port, security, timeout=10.0):
    """Fingerprint of the certificate a server presents, without trusting it.

    Used only to show the user what they would be trusting after a
    certificate error; never used to decide anything on its own.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        if security == SSL:
            with socket.create_connection((host, port), timeout=timeout) as raw:
                with context.wrap_socket(raw, server_hostname=host) as tls:
                    return certificate_fingerprint(tls.getpeercert(binary_form=True))
        client = imapclient.IMAPClient(host, port=port, ssl=False, timeout=timeout)
        try:
            client.starttls(context)
            return certificate_fingerprint(client.socket().getpeercert(binary_form=True))
        finally:
            client.shutdown()
    except Exception:  # the certificate error already explains the problem
        return None


class ImapSession:
    """A logged-in IMAP connection. Use as a context manager."""

    def __init__(self, client):
        self.client = client

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.client.logout()
        except Exception:
            try:
                self.client.shutdown()
            except Exception:
                pass

    @property
    def capabilities(self):
        return {c.decode('ascii', 'replace').upper() for c in self.client.capabilities()}

    def list_folders(self):
        """Every folder with its role (RFC 6154 flags, else well-known names)."""
        # Servers announcing SPECIAL-USE (Dovecot, Gmail, Exchange ...) put the
        # flags in the plain LIST answer; others are recognised by name.
        rows = self.client.list_folders()
        folders = []
        for flags, delimiter, name in rows:
            delimiter = delimiter.decode('ascii', 'replace') if isinstance(delimiter, bytes) else (delimiter or '')
            flags = tuple(f.decode('ascii', 'replace') if isinstance(f, bytes) else f for f in flags)
            folders.append(FolderInfo(
                name=name,
                delimiter=delimiter,
                flags=flags,
                special_use=special_use.detect(name, flags, delimiter),
                selectable=special_use.is_selectable(flags),
            ))
        return folders


CLIENT_ID = {'name': 'email_crm_sync', 'vendor': 'email_crm_sync', 'version': '11.0.1'}


def _identify(client):
    # RFC 2971 ID: some providers (NetEase 163/126/yeah.net) refuse to open
    # folders for clients that do not say who they are.
    try:
        if client.has_capability('ID'):
            client.id_(CLIENT_ID)
    except imapclient.exceptions.IMAPClientError:
        pass


def open_session(settings):
    """Connect and log in; returns an ``ImapSession`` or raises ConnectionProblem."""
    client = None
    try:
        context = _ssl_context(bool(settings.trusted_fingerprint))
        client = imapclient.IMAPClient(
            settings.host, port=settings.port, ssl=settings.security == SSL,
            ssl_context=context if settings.security == SSL else None,
            timeout=settings.timeout)
        if settings.security == STARTTLS:
            client.starttls(context)
        if settings.security in (SSL, STARTTLS):
            _check_pin(client, settings)
        if settings.oauth2_token:
            client.oauth2_login(settings.login, settings.oauth2_token)
        else:
            client.login(settings.login, settings.password)
        _identify(client)
        return ImapSession(client)
    except Exception as error:
        if client is not None:
            try:
                client.shutdown()
            except Exception:
                pass
        problem = connection_errors.explain(
            error, settings.host, settings.port, settings.timeout, settings.security)
        if problem.code == connection_errors.CERTIFICATE and not problem.fingerprint:
            problem.fingerprint = fetch_presented_fingerprint(
                settings.host, settings.port, settings.security, min(settings.timeout, 10.0))
        raise problem from None
