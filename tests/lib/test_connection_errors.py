"""Every way connecting can fail gets its own plain-words message."""
import socket
import ssl

import imapclient.exceptions
import pytest

from email_crm_sync.lib import connection_errors as ce


def cert_error():
    error = ssl.SSLCertVerificationError(1, 'certificate verify failed')
    error.verify_message = 'self-signed certificate'
    return error


CASES = [
    (imapclient.exceptions.LoginError('[AUTHENTICATIONFAILED] Authentication failed.'),
     ce.AUTH_FAILED, 'refused the login or the password'),
    # Dovecot when its password database or token service is down (RFC 5530).
    (imapclient.exceptions.LoginError('[UNAVAILABLE] Temporary authentication failure. [host:2026]'),
     ce.UNAVAILABLE, 'cannot check logins right now'),
    (cert_error(), ce.CERTIFICATE, 'certificate of mail.example.com is not trusted (self-signed certificate)'),
    (socket.gaierror(-2, 'Name or service not known'), ce.HOST_NOT_FOUND,
     'server name "mail.example.com" could not be found'),
    (socket.timeout('timed out'), ce.TIMEOUT, 'did not answer within 7 seconds'),
    (TimeoutError(), ce.TIMEOUT, 'did not answer'),
    (ConnectionRefusedError(111, 'Connection refused'), ce.REFUSED,
     'Nothing accepts connections at mail.example.com port 993'),
    (ssl.SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number'), ce.TLS_FAILED,
     'secure connection to mail.example.com port 993 could not be set up'),
    (imapclient.exceptions.CapabilityError('Server does not support STARTTLS capability'),
     ce.STARTTLS_UNSUPPORTED, 'does not offer STARTTLS'),
    (ConnectionResetError(104, 'Connection reset by peer'), ce.DROPPED, 'closed the connection'),
    (imapclient.exceptions.IMAPClientAbortError('socket error: EOF'), ce.DROPPED,
     'closed the connection'),
    (OSError(113, 'No route to host'), ce.UNREACHABLE, 'cannot be reached (No route to host)'),
    (imapclient.exceptions.IMAPClientError('BAD unexpected'), ce.PROTOCOL,
     'answered in an unexpected way: BAD unexpected'),
]


@pytest.mark.parametrize('error, code, words', CASES, ids=[c[1] + '-' + type(c[0]).__name__ for c in CASES])
def test_each_failure_is_explained(error, code, words):
    problem = ce.explain(error, 'mail.example.com', 993, timeout=7, security='ssl')
    assert problem.code == code
    assert words in problem.message
    assert 'Traceback' not in problem.message


def test_only_a_refused_login_stops_retries():
    codes = {ce.explain(error, 'h', 1).code: ce.explain(error, 'h', 1).is_auth_failure
             for error, _code, _words in CASES}
    assert [code for code, stops in codes.items() if stops] == [ce.AUTH_FAILED]


def test_tls_mismatch_hints_at_the_security_setting():
    error = ssl.SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number')
    assert 'STARTTLS' in ce.explain(error, 'h', 143, security='ssl').message


def test_long_server_answers_are_shortened():
    problem = ce.explain(imapclient.exceptions.IMAPClientError('x' * 5000), 'h', 1)
    assert len(problem.message) < 400
