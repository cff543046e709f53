"""Sign-in with OAuth2 works against the local services as it does against
Google or Microsoft: a person allows an app on a consent page, the app gets
tokens (PKCE, rotating refresh tokens, a signed ID token) and signs in to
IMAP and SMTP with XOAUTH2; whatever is wrong, stolen, expired or revoked
is refused; and no secret ends up in a log.

Real processes throughout (see conftest.py): the OAuth server, a Dovecot
checking tokens by introspection, the SMTP relay. No part of the protocol
is mocked.
"""
import email.message
import email.policy
import email.utils
import json
import os
import smtplib
import time

import imapclient
import pytest
import requests
from imapclient.exceptions import LoginError
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from devenv.oauth_server import OAuthServer
from devenv.smtp_relay import xoauth2_string

from .oauth_flow import App, redirect_params

REDIRECT_URI = 'http://127.0.0.1:9/email_crm_sync/oauth/callback'
SCOPE = 'openid email https://mail.google.com/'
GARBAGE_TOKEN = 'ya29.this-was-never-issued-by-anyone'


class Person:
    """Someone with an account on the OAuth server that is also a mailbox."""

    def __init__(self, name):
        self.login = '%s@oauth.test' % name
        self.password = '%s-oauth-pw' % name
        self.mail_password = '%s-imap-pw' % name


ANA, BOB, CARA, DAN = (Person(n) for n in ('ana', 'bob', 'cara', 'dan'))
PEOPLE = (ANA, BOB, CARA, DAN)


@pytest.fixture(scope='module')
def people(oauth_server, oauth_dovecot):
    for person in PEOPLE:
        oauth_server.add_user(person.login, person.password)
    oauth_dovecot.add_users({p.login: p.mail_password for p in PEOPLE})
    return PEOPLE


@pytest.fixture(scope='module')
def app(oauth_server, people):
    return App(oauth_server, 'crm-app', 'crm-app-secret-5f2c', REDIRECT_URI, SCOPE)


@pytest.fixture(scope='module')
def other_app(oauth_server, people):
    return App(oauth_server, 'other-app', 'other-app-secret-91d0',
               'http://127.0.0.1:9/other/callback', SCOPE)


def imap_xoauth2(dovecot, login, token, mech='XOAUTH2'):
    """An IMAPS connection signed in with a bearer token."""
    client = imapclient.IMAPClient(dovecot.host, port=dovecot.imaps_port, ssl=True,
                                   ssl_context=dovecot.ssl_context(), timeout=10)
    try:
        if mech == 'OAUTHBEARER':
            client.oauthbearer_login(login, token)
        else:
            client.oauth2_login(login, token)
    except Exception:
        client.shutdown()
        raise
    return client


# -- discovery and keys --------------------------------------------------------

def test_discovery_document_names_the_server_and_its_endpoints(oauth_server):
    config = requests.get(oauth_server.discovery_url, timeout=10).json()
    assert config['issuer'] == oauth_server.issuer == oauth_server.url
    assert config['authorization_endpoint'] == oauth_server.authorize_url
    assert config['token_endpoint'] == oauth_server.token_url
    assert config['revocation_endpoint'] == oauth_server.revoke_url
    assert config['introspection_endpoint'] == oauth_server.introspect_url
    assert config['userinfo_endpoint'] == oauth_server.userinfo_url
    assert config['jwks_uri'] == oauth_server.jwks_url
    assert config['code_challenge_methods_supported'] == ['S256']
    assert config['id_token_signing_alg_values_supported'] == ['RS256']
    keys = requests.get(oauth_server.jwks_url, timeout=10).json()['keys']
    assert [(k['kty'], k['alg'], k['use']) for k in keys] == [('RSA', 'RS256', 'sig')]
    assert 'd' not in keys[0], 'the JWKS must not publish the private key'


# -- the consent page ----------------------------------------------------------

def test_consent_page_names_the_app_and_scopes_and_asks_again_after_a_wrong_password(app):
    params, verifier = app.authorization_request()
    page = app.open_consent(params)
    assert page.status_code == 200
    for marker in ('id="login"', 'id="password"', 'name="allow"', 'name="deny"',
                   'crm-app', '<li>openid</li>', '<li>https://mail.google.com/</li>'):
        assert marker in page.text
    wrong = app.answer(page, ANA.login, 'not-her-password')
    assert wrong.status_code == 200 and 'Location' not in wrong.headers
    assert 'id="error"' in wrong.text and 'value="%s"' % ANA.login in wrong.text
    right = redirect_params(app.answer(page, ANA.login, ANA.password))
    assert right['state'] == params['state'] and right['code']


def test_deny_sends_the_person_back_with_access_denied(app):
    params, _ = app.authorization_request()
    answer = redirect_params(app.answer(app.open_consent(params), allow=False))
    assert (answer['error'], answer['state']) == ('access_denied', params['state'])
    assert 'code' not in answer


@pytest.mark.parametrize('overrides, error', [
    # Nothing proves the redirect URI belongs to the app: no redirect at all
    # (RFC 6749 4.1.2.1), an error page instead.
    (dict(client_id='no-such-app'), 'invalid_client'),
    (dict(redirect_uri='https://attacker.example/callback'), 'invalid_request'),
    (dict(redirect_uri=None), None),  # the app has one URI, so it is the default
], ids=['unknown app', 'unregistered redirect URI', 'redirect URI left out'])
def test_requests_that_cannot_be_answered_by_redirect_get_an_error_page(app, overrides, error):
    params, _ = app.authorization_request(**overrides)
    page = app.open_consent(params)
    if error is None:
        assert page.status_code == 200 and 'id="login"' in page.text
        return
    assert page.status_code == 400 and 'Location' not in page.headers
    assert 'id="error"' in page.text and error in page.text


@pytest.mark.parametrize('overrides, error', [
    (dict(code_challenge=None, code_challenge_method=None), 'invalid_request'),
    (dict(code_challenge_method='plain'), 'invalid_request'),
    (dict(scope='openid https://outlook.office.com/IMAP.AccessAsUser.All'), 'invalid_scope'),
    (dict(response_type='token'), 'unsupported_response_type'),
], ids=['no PKCE', 'PKCE plain', 'scope not registered', 'implicit flow'])
def test_flawed_requests_of_a_known_app_are_answered_at_its_redirect_uri(app, overrides, error):
    params, _ = app.authorization_request(**overrides)
    answer = redirect_params(app.open_consent(params))
    assert answer['error'] == error and answer['state'] == params['state']


# -- codes and tokens ----------------------------------------------------------

def test_code_flow_gives_tokens_and_an_id_token_that_verifies_against_the_jwks(
        app, oauth_server):
    grant = app.sign_in(ANA.login, ANA.password, nonce='n-0S6_WzA2Mj')
    response = app.exchange(grant.code, grant.verifier)
    assert response.status_code == 200, response.text
    assert response.headers['Cache-Control'] == 'no-store'
    tokens = response.json()
    assert tokens['token_type'] == 'Bearer' and tokens['expires_in'] == 3600
    assert tokens['scope'] == SCOPE
    assert tokens['access_token'] and tokens['refresh_token']

    keys = KeySet.import_key_set(requests.get(oauth_server.jwks_url, timeout=10).json())
    id_token = jwt.decode(tokens['id_token'], keys, algorithms=['RS256'])
    claims = id_token.claims
    jwt.JWTClaimsRegistry(
        iss={'essential': True, 'value': oauth_server.issuer},
        aud={'essential': True, 'value': 'crm-app'},
        nonce={'essential': True, 'value': 'n-0S6_WzA2Mj'},
        sub={'essential': True}, exp={'essential': True}, iat={'essential': True},
    ).validate(claims)
    assert claims['email'] == ANA.login and claims['email_verified'] is True
    assert id_token.header['kid'] == keys.keys[0].kid
    head, body, signature = tokens['id_token'].split('.')
    with pytest.raises(BadSignatureError):
        jwt.decode('.'.join([head, body, signature[::-1]]), keys, algorithms=['RS256'])

    info = requests.get(oauth_server.userinfo_url, timeout=10,
                        headers={'Authorization': 'Bearer ' + tokens['access_token']}).json()
    assert info == {'sub': claims['sub'], 'email': ANA.login, 'email_verified': True}
    assert app.introspect(tokens['access_token'])['username'] == ANA.login


def test_both_client_authentication_methods_are_accepted(app):
    grant = app.sign_in(ANA.login, ANA.password)
    assert app.exchange(grant.code, grant.verifier, auth='post').status_code == 200


def test_code_exchanges_that_must_fail(app, other_app):
    """Each row: a fresh code, exchanged the wrong way."""
    def wrong_verifier(grant):
        return app.exchange(grant.code, grant.verifier[::-1])

    def reused(grant):
        first = app.exchange(grant.code, grant.verifier)
        assert first.status_code == 200
        again = app.exchange(grant.code, grant.verifier)
        # RFC 6749 4.1.2: a replayed code voids what it was exchanged for.
        assert app.introspect(first.json()['access_token']) == {'active': False}
        assert app.refresh(first.json()['refresh_token']).json()['error'] == 'invalid_grant'
        return again

    def wrong_secret(grant):
        app.client_secret, secret = 'not-the-secret', app.client_secret
        try:
            return app.exchange(grant.code, grant.verifier)
        finally:
            app.client_secret = secret

    # A code is good for one try by its app: after a refusal, is it spent?
    cases = [
        ('no code_verifier', lambda g: app.exchange(g.code, None), 400, 'invalid_request', True),
        ('wrong code_verifier', wrong_verifier, 400, 'invalid_grant', True),
        ('code used twice', reused, 400, 'invalid_grant', True),
        ('other redirect_uri', lambda g: app.exchange(g.code, g.verifier,
                                                      redirect_uri=REDIRECT_URI + '2'),
         400, 'invalid_grant', True),
        ("another app's code", lambda g: other_app.exchange(g.code, g.verifier),
         400, 'invalid_grant', False),
        ('wrong client secret', wrong_secret, 401, 'invalid_client', False),
    ]
    for name, exchange, status, error, spent in cases:
        grant = app.sign_in(ANA.login, ANA.password)
        response = exchange(grant)
        assert (response.status_code, response.json().get('error')) == (status, error), name
        retry = app.exchange(grant.code, grant.verifier)
        assert retry.status_code == (400 if spent else 200), name


def test_refresh_rotates_the_refresh_token_and_retires_the_old_one(app):
    first = app.tokens(ANA.login, ANA.password)
    second = app.refresh(first['refresh_token'])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second['refresh_token'] != first['refresh_token']
    assert second['access_token'] != first['access_token'] and second['expires_in'] == 3600
    again = app.refresh(first['refresh_token'])
    assert (again.status_code, again.json()['error']) == (400, 'invalid_grant')
    third = app.refresh(second['refresh_token'], auth='basic')
    assert third.status_code == 200, third.text
    # The access token of an earlier round lives on until it expires.
    assert app.introspect(first['access_token'])['active'] is True


def test_revoke_user_voids_every_token_of_that_person(app, oauth_server):
    tokens = app.tokens(CARA.login, CARA.password)
    others = app.tokens(ANA.login, ANA.password)
    assert oauth_server.revoke_user(CARA.login) >= 1
    assert app.introspect(tokens['access_token']) == {'active': False}
    assert app.refresh(tokens['refresh_token']).json()['error'] == 'invalid_grant'
    assert app.introspect(others['access_token'])['active'] is True
    # Consent can be given again.
    assert app.tokens(CARA.login, CARA.password)['access_token']


def test_revoking_a_refresh_token_also_voids_its_access_token(app):
    tokens = app.tokens(ANA.login, ANA.password)
    assert app.revoke(tokens['refresh_token'], hint='refresh_token').status_code == 200
    assert app.refresh(tokens['refresh_token']).json()['error'] == 'invalid_grant'
    assert app.introspect(tokens['access_token']) == {'active': False}


def test_introspection_wants_a_registered_client_and_keeps_refresh_tokens_to_their_app(
        app, other_app, oauth_server):
    tokens = app.tokens(ANA.login, ANA.password)
    anonymous = requests.post(oauth_server.introspect_url, timeout=10,
                              data={'token': tokens['access_token']})
    assert anonymous.status_code == 401
    seen = other_app.introspect(tokens['access_token'])
    assert seen['active'] is True
    assert {k: seen[k] for k in ('username', 'email', 'client_id', 'scope')} == {
        'username': ANA.login, 'email': ANA.login, 'client_id': 'crm-app', 'scope': SCOPE}
    assert time.time() < seen['exp'] <= time.time() + 3600
    assert other_app.introspect(tokens['refresh_token']) == {'active': False}
    assert app.introspect(tokens['refresh_token'])['active'] is True


def test_access_token_lifetime_can_be_shortened(app, oauth_server):
    oauth_server.set_access_token_ttl(5)
    try:
        tokens = app.tokens(ANA.login, ANA.password)
    finally:
        oauth_server.set_access_token_ttl(3600)
    assert tokens['expires_in'] == 5
    seen = app.introspect(tokens['access_token'])
    assert seen['exp'] - seen['iat'] == 5


def test_a_restarted_server_keeps_users_clients_keys_and_refresh_tokens(mail_run_dir):
    server = OAuthServer(os.path.join(mail_run_dir, 'oauth-restart'))
    server.add_user(ANA.login, ANA.password)
    app = App(server, 'restart-app', 'restart-secret', REDIRECT_URI, SCOPE)
    with server:
        tokens = app.tokens(ANA.login, ANA.password)
        keys = requests.get(server.jwks_url, timeout=10).json()
    again = OAuthServer(server.run_dir, port=server.port)
    app.server = again
    with again:
        assert requests.get(again.jwks_url, timeout=10).json() == keys
        assert app.introspect(tokens['access_token'])['active'] is True
        assert app.refresh(tokens['refresh_token']).status_code == 200
        assert app.tokens(ANA.login, ANA.password)['access_token']
    app.server = server
    with open(server.log_path, encoding='utf-8') as f:
        assert f.read().count(' listening on ') == 2  # both runs, one log
    assert not again.is_running()


# -- IMAP with XOAUTH2 ---------------------------------------------------------

def test_imap_xoauth2_login_opens_the_mailbox(app, oauth_dovecot):
    tokens = app.tokens(ANA.login, ANA.password)
    with imap_xoauth2(oauth_dovecot, ANA.login, tokens['access_token']) as client:
        assert client.select_folder('INBOX')[b'UIDVALIDITY']
    with imap_xoauth2(oauth_dovecot, ANA.login, tokens['access_token'], 'OAUTHBEARER') as client:
        assert client.select_folder('INBOX', readonly=True)[b'UIDVALIDITY']


def test_password_login_still_works_on_the_oauth_dovecot(oauth_dovecot, people):
    with oauth_dovecot.imap_client(ANA.login, ANA.mail_password) as client:
        assert client.select_folder('INBOX')[b'UIDVALIDITY']
    with pytest.raises(LoginError):
        oauth_dovecot.imap_client(ANA.login, ANA.password)  # the OAuth password is not hers here


def _revoked_by_app(app, oauth_server):
    tokens = app.tokens(ANA.login, ANA.password)
    assert app.revoke(tokens['access_token']).status_code == 200
    return ANA.login, tokens['access_token']


def _consent_withdrawn(app, oauth_server):
    tokens = app.tokens(CARA.login, CARA.password)
    oauth_server.revoke_user(CARA.login)
    return CARA.login, tokens['access_token']


def _expired(app, oauth_server):
    tokens = app.tokens(DAN.login, DAN.password)
    oauth_server.expire_access_tokens(DAN.login)
    return DAN.login, tokens['access_token']


@pytest.mark.parametrize('make', [
    _revoked_by_app,
    _consent_withdrawn,
    _expired,
    lambda app, server: (ANA.login, GARBAGE_TOKEN),
    lambda app, server: (ANA.login, app.tokens(BOB.login, BOB.password)['access_token']),
    lambda app, server: (ANA.login, app.tokens(ANA.login, ANA.password)['refresh_token']),
    lambda app, server: (ANA.login, ANA.mail_password),
], ids=['revoked by the app', 'consent withdrawn', 'expired', 'garbage',
        "someone else's token", 'a refresh token', 'the mailbox password'])
def test_imap_refuses_tokens_that_do_not_open_that_mailbox(app, oauth_server, oauth_dovecot,
                                                           make):
    login, token = make(app, oauth_server)
    with pytest.raises(LoginError, match='AUTHENTICATIONFAILED'):
        imap_xoauth2(oauth_dovecot, login, token)


def test_an_expired_token_works_again_once_the_app_refreshes(app, oauth_server, oauth_dovecot):
    tokens = app.tokens(DAN.login, DAN.password)
    oauth_server.expire_access_tokens(DAN.login)
    with pytest.raises(LoginError):
        imap_xoauth2(oauth_dovecot, DAN.login, tokens['access_token'])
    fresh = app.refresh(tokens['refresh_token']).json()
    with imap_xoauth2(oauth_dovecot, DAN.login, fresh['access_token']) as client:
        assert client.select_folder('INBOX')[b'UIDVALIDITY']


# -- SMTP with XOAUTH2 ---------------------------------------------------------

def _message(sender, to, subject):
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message['From'], message['To'], message['Subject'] = sender, to, subject
    message['Message-ID'] = email.utils.make_msgid(domain='oauth.test')
    message.set_content('Sent with a bearer token.\n')
    return message


def test_smtp_xoauth2_submission_lands_in_the_mailbox(app, oauth_smtp_relay, oauth_dovecot):
    tokens = app.tokens(ANA.login, ANA.password)
    message = _message(ANA.login, ANA.login, 'XOAUTH2 submission')
    with smtplib.SMTP(oauth_smtp_relay.host, oauth_smtp_relay.port, timeout=10) as smtp:
        smtp.ehlo()
        assert 'XOAUTH2' in smtp.esmtp_features['auth'].split()
        code, _ = smtp.auth('XOAUTH2', lambda challenge=None: xoauth2_string(
            ANA.login, tokens['access_token']).decode())
        assert code == 235
        smtp.send_message(message)
    with imap_xoauth2(oauth_dovecot, ANA.login, tokens['access_token']) as client:
        client.select_folder('INBOX', readonly=True)
        uids = client.search(['HEADER', 'Message-ID', message['Message-ID']])
        assert len(uids) == 1
        raw = client.fetch(uids, ['BODY.PEEK[HEADER]'])[uids[0]][b'BODY[HEADER]']
    assert b'with ESMTPA' in raw  # the relay saw an authenticated submission


def test_smtp_refuses_a_bad_token_with_the_xoauth2_error_then_535(app, oauth_smtp_relay):
    challenges = []

    def answer(challenge=None):
        if challenge is None:
            return xoauth2_string(ANA.login, GARBAGE_TOKEN).decode()
        challenges.append(challenge)
        return ''  # what XOAUTH2 wants in reply to the error

    with smtplib.SMTP(oauth_smtp_relay.host, oauth_smtp_relay.port, timeout=10) as smtp:
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            smtp.auth('XOAUTH2', answer)
    assert refused.value.smtp_code == 535
    assert json.loads(challenges[0])['status'] == '401'


# -- logs ------------------------------------------------------------------------

def test_no_secret_reaches_a_log(app, other_app, oauth_server, oauth_dovecot, oauth_smtp_relay):
    """Run last: it checks the logs for every secret the tests above used,
    after a round of its own (so it also stands alone)."""
    tokens = app.tokens(BOB.login, BOB.password, nonce='n-log-check')
    fresh = app.refresh(tokens['refresh_token']).json()
    with imap_xoauth2(oauth_dovecot, BOB.login, fresh['access_token']) as client:
        client.select_folder('INBOX')
    with pytest.raises(LoginError):
        imap_xoauth2(oauth_dovecot, BOB.login, tokens['refresh_token'])
    with smtplib.SMTP(oauth_smtp_relay.host, oauth_smtp_relay.port, timeout=10) as smtp:
        smtp.auth('XOAUTH2', lambda challenge=None: xoauth2_string(
            BOB.login, fresh['access_token']).decode() if challenge is None else '')
        smtp.send_message(_message(BOB.login, BOB.login, 'log check'))
    oauth_server.revoke_user(BOB.login)

    secrets = app.secrets | other_app.secrets | {GARBAGE_TOKEN,
                                                 oauth_dovecot.oauth2['client_secret']}
    for person in PEOPLE:
        secrets.update((person.password, person.mail_password))
    time.sleep(0.2)  # Dovecot's log process writes asynchronously
    for service in (oauth_server, oauth_dovecot, oauth_smtp_relay):
        with open(service.log_path, encoding='utf-8', errors='replace') as f:
            text = f.read()
        assert text.strip(), service.log_path
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, '%s holds %d secret(s)' % (service.log_path, len(leaked))
