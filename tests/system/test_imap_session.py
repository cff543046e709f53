"""Connecting to a real IMAP server (the test Dovecot): each failure says
what is wrong in plain words; with the right settings the folders appear."""
import socket
import threading

import pytest

from email_crm_sync.lib import connection_errors as ce
from email_crm_sync.lib.imap_session import ServerSettings, open_session


@pytest.fixture
def settings(dovecot, dovecot_fingerprint):
    """Settings that work; a test changes what it is about."""
    def make(**changes):
        values = dict(host=dovecot.host, port=dovecot.imaps_port, security='ssl', login='alice',
                      password='alice-pass', timeout=5, trusted_fingerprint=dovecot_fingerprint)
        values.update(changes)
        return ServerSettings(**values)
    return make


def problem_of(server_settings):
    with pytest.raises(ce.ConnectionProblem) as caught:
        open_session(server_settings).close()
    return caught.value


@pytest.mark.parametrize('security, port_attr', [('ssl', 'imaps_port'), ('starttls', 'imap_port')])
def test_right_settings_list_folders_with_their_roles(dovecot, settings, security, port_attr):
    with open_session(settings(security=security, port=getattr(dovecot, port_attr))) as session:
        roles = {f.name: f.special_use for f in session.list_folders()}
    assert roles == {'INBOX': 'inbox', 'Sent': 'sent', 'Drafts': 'drafts', 'Trash': 'trash',
                     'Archive': 'archive', 'Junk': 'junk'}


def test_wrong_password(settings):
    problem = problem_of(settings(password='not-the-password'))
    assert problem.code == ce.AUTH_FAILED
    assert 'refused the login or the password' in problem.message
    assert 'not-the-password' not in problem.message


def test_self_signed_certificate_not_trusted_shows_its_fingerprint(settings, dovecot_fingerprint):
    problem = problem_of(settings(trusted_fingerprint=''))
    assert problem.code == ce.CERTIFICATE
    assert 'not trusted (self-signed certificate)' in problem.message
    assert problem.fingerprint == dovecot_fingerprint


def test_self_signed_certificate_over_starttls_too(dovecot, settings, dovecot_fingerprint):
    problem = problem_of(settings(security='starttls', port=dovecot.imap_port, trusted_fingerprint=''))
    assert problem.code == ce.CERTIFICATE
    assert problem.fingerprint == dovecot_fingerprint


def test_a_changed_certificate_is_refused_even_when_one_was_trusted(settings):
    problem = problem_of(settings(trusted_fingerprint='AB:' * 31 + 'AB'))
    assert problem.code == ce.CERTIFICATE
    assert 'has changed since you trusted it' in problem.message


def test_nothing_listening():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    problem = problem_of(ServerSettings('127.0.0.1', port, 'ssl', 'alice', 'x', timeout=5))
    assert problem.code == ce.REFUSED
    assert 'Nothing accepts connections at 127.0.0.1 port %d' % port in problem.message


def test_unknown_host_name():
    problem = problem_of(ServerSettings('no-such-host.invalid', 993, 'ssl', 'alice', 'x', timeout=5))
    assert problem.code == ce.HOST_NOT_FOUND
    assert '"no-such-host.invalid" could not be found' in problem.message


def test_server_that_never_answers_times_out():
    """A real TCP listener that accepts and stays silent (a black hole)."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        problem = problem_of(ServerSettings('127.0.0.1', listener.getsockname()[1], 'none',
                                            'alice', 'x', timeout=1))
    finally:
        for conn, _addr in accepted:
            conn.close()
        listener.close()
    assert problem.code == ce.TIMEOUT
    assert 'did not answer within 1 seconds' in problem.message


def test_implicit_tls_against_a_starttls_port_says_to_check_security(dovecot, settings):
    problem = problem_of(settings(security='ssl', port=dovecot.imap_port))
    assert problem.code in (ce.TLS_FAILED, ce.DROPPED)
    assert 'security setting' in problem.message


def test_password_never_in_settings_repr(settings):
    assert 'alice-pass' not in repr(settings())
