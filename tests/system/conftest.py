"""Mail services for system tests: a private Dovecot and an SMTP relay, and
for OAuth2 sign-in an authorization server with a Dovecot and a relay that
take its tokens (XOAUTH2).

Each test session starts its own instances on free ports, so tests never
touch the demo services (.run/demo) nor another session running at the
same time.
"""
import os
import shutil
import tempfile

import pytest

from devenv.dovecot import Dovecot
from devenv.oauth_server import OAuthServer
from devenv.smtp_relay import SmtpRelay

USERS = {'alice': 'alice-pass', 'bob': 'bob-pass'}


def make_run_dir(prefix):
    """A fresh directory Dovecot can use.

    Not pytest's tmp_path: its base directory is private to root (0700), and
    Dovecot's mail processes run as the `mail` user, who must be able to
    reach the maildirs. The path also stays short for unix sockets.
    """
    path = tempfile.mkdtemp(prefix=prefix, dir='/tmp')
    os.chmod(path, 0o755)
    return path


@pytest.fixture(scope='session')
def mail_run_dir():
    path = make_run_dir('devenv-mail-')
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='session')
def dovecot(mail_run_dir):
    """A started Dovecot with users alice/alice-pass and bob/bob-pass."""
    instance = Dovecot(os.path.join(mail_run_dir, 'dovecot'))
    for login, password in USERS.items():
        instance.add_user(login, password)
    with instance:
        yield instance


@pytest.fixture(scope='session')
def smtp_relay(mail_run_dir, dovecot):
    """A started SMTP relay delivering into `dovecot`; AUTH is offered
    (checked against Dovecot's users) but not required."""
    with SmtpRelay(os.path.join(mail_run_dir, 'smtp'), dovecot=dovecot) as relay:
        yield relay


@pytest.fixture(scope='session')
def oauth_server(mail_run_dir):
    """A started OAuth2 / OpenID Connect server, without users or clients
    (add them with add_user / add_client)."""
    with OAuthServer(os.path.join(mail_run_dir, 'oauth')) as server:
        yield server


@pytest.fixture(scope='session')
def oauth_dovecot(mail_run_dir, oauth_server):
    """A started Dovecot of its own that also takes XOAUTH2 and OAUTHBEARER
    logins, the token checked by `oauth_server`; without users. An OAuth
    user signs in to IMAP as is; to receive mail it must be a user here
    too (add_user, any password)."""
    with Dovecot(os.path.join(mail_run_dir, 'oauth-dovecot'),
                 oauth2=oauth_server.dovecot_settings()) as instance:
        yield instance


@pytest.fixture(scope='session')
def oauth_smtp_relay(mail_run_dir, oauth_dovecot):
    """A started SMTP relay delivering into `oauth_dovecot`, offering AUTH
    XOAUTH2 (and PLAIN/LOGIN), not requiring AUTH."""
    with SmtpRelay(os.path.join(mail_run_dir, 'oauth-smtp'), dovecot=oauth_dovecot) as relay:
        yield relay


@pytest.fixture(scope='session')
def dovecot_fingerprint(dovecot):
    """SHA-256 fingerprint of the test Dovecot's self-signed certificate."""
    import ssl
    from email_crm_sync.lib.imap_session import certificate_fingerprint
    with open(dovecot.cert_path, encoding='ascii') as handle:
        return certificate_fingerprint(ssl.PEM_cert_to_DER_cert(handle.read()))


from .browser import browser, page  # noqa: E402,F401  (fixtures for the browser tests)
from .oauth_crm import oauth_crm  # noqa: E402,F401  (Odoo signing mailboxes in with the local OAuth server)
