"""Turn whatever connecting to a mail server raised into words a user understands.

Every failure while connecting or logging in ends up as a ``ConnectionProblem``
with a stable ``code`` (the mailbox state depends on it: only ``auth_failed``
stops retries until the user reconnects) and a ``message`` in plain words that
says what is wrong and what to try. Never a traceback, never the password.
"""
import socket
import ssl

import imapclient.exceptions

AUTH_FAILED = 'auth_failed'
HOST_NOT_FOUND = 'host_not_found'
REFUSED = 'refused'
UNREACHABLE = 'unreachable'
TIMEOUT = 'timeout'
CERTIFICATE = 'certificate'
TLS_FAILED = 'tls_failed'
STARTTLS_UNSUPPORTED = 'starttls_unsupported'
DROPPED = 'dropped'
PROTOCOL = 'protocol'
# The server answered but cannot check logins now (RFC 5530 [UNAVAILABLE]):
# its password database or token service is down. Retried, not "reconnect".
UNAVAILABLE = 'unavailable'


class ConnectionProblem(Exception):
    """A failure to reach or log in to a mail server, explained.

    ``fingerprint`` is the SHA-256 fingerprint of an untrusted certificate the
    server presented, so the user can compare it and choose to trust it.
    """

    def __init__(self, code, message, fingerprint=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fingerprint = fingerprint

    @property
    def is_auth_failure(self):
        return self.code == AUTH_FAILED


def explain(error, host, port, timeout=None, security=None):
    """The ``ConnectionProblem`` for an exception raised while connecting."""
    where = '%s port %s' % (host, port)
    if isinstance(error, ConnectionProblem):
        return error
    if isinstance(error, imapclient.exceptions.LoginError) and _temporary_login_failure(error):
        return ConnectionProblem(
            UNAVAILABLE,
            'The server %s cannot check logins right now (a temporary failure on its side); '
            'syncing is retried later.' % host)
    if isinstance(error, imapclient.exceptions.LoginError):
        return ConnectionProblem(
            AUTH_FAILED,
            'The server %s refused the login or the password. Check both; if the account '
            'uses two-step verification (Gmail, Yahoo, iCloud, Outlook.com ...), create an '
            'app password in the account settings and use it here.' % host)
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or str(error)
        return ConnectionProblem(
            CERTIFICATE,
            'The security certificate of %s is not trusted (%s). Someone may be '
            'intercepting the connection, or the server uses a certificate of its own. '
            'Check the server name; if your administrator confirms the fingerprint below, '
            'you can trust this certificate.' % (host, reason))
    if isinstance(error, socket.gaierror):
        return ConnectionProblem(
            HOST_NOT_FOUND,
            'The server name "%s" could not be found. Check the spelling of the IMAP server.' % host)
    if isinstance(error, (socket.timeout, TimeoutError)):
        return ConnectionProblem(
            TIMEOUT,
            'The server %s did not answer within %s seconds. Check the host and port, '
            'or try again later.' % (where, _seconds(timeout)))
    if isinstance(error, ConnectionRefusedError):
        return ConnectionProblem(
            REFUSED,
            'Nothing accepts connections at %s. Check the host and the port '
            '(IMAP uses 993 with SSL/TLS, 143 with STARTTLS).' % where)
    if isinstance(error, ssl.SSLError):
        hint = ''
        if security == 'ssl':
            hint = ' The port may expect STARTTLS or no encryption: check the security setting.'
        return ConnectionProblem(
            TLS_FAILED,
            'A secure connection to %s could not be set up (%s).%s'
            % (where, getattr(error, 'reason', None) or _short(error), hint))
    if isinstance(error, imapclient.exceptions.CapabilityError) and 'STARTTLS' in str(error):
        return ConnectionProblem(
            STARTTLS_UNSUPPORTED,
            'The server %s does not offer STARTTLS on this port. Choose SSL/TLS '
            '(usually port 993).' % where)
    if isinstance(error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
                          imapclient.exceptions.IMAPClientAbortError, EOFError)):
        return ConnectionProblem(
            DROPPED,
            'The server %s closed the connection unexpectedly. If the security setting is '
            'wrong (SSL/TLS versus STARTTLS) servers often do this; otherwise try again later.'
            % where)
    if isinstance(error, OSError) and error.errno is not None:
        return ConnectionProblem(
            UNREACHABLE,
            'The server %s cannot be reached (%s). Check the host, the port and the '
            'network.' % (where, error.strerror or error))
    return ConnectionProblem(
        PROTOCOL,
        'The server %s answered in an unexpected way: %s' % (where, _short(error)))


def _temporary_login_failure(error):
    text = str(error).upper()
    return '[UNAVAILABLE]' in text or 'TEMPORARY AUTHENTICATION FAILURE' in text


def _seconds(timeout):
    return ('%g' % timeout) if timeout else 'the allowed'


def _short(error, limit=200):
    text = str(error) or error.__class__.__name__
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    return text if len(text) <= limit else text[:limit] + '...'
