"""Signing a mailbox in with a provider, end to end and for real: the local
OAuth2 / OpenID Connect server (devenv.oauth_server, on Authlib) plays Google
or Microsoft, Dovecot checks the bearer tokens against it by introspection,
the SMTP relay checks them through Dovecot. The salesperson's browser is
played over HTTP (tests/system/test_browser_oauth.py does it in Chromium):
the Sign in button, the provider's consent page, the callback.

The tests of this module build on each other, in order: Olga signs in,
syncs, her token expires and is renewed, workers race for it, the provider
revokes it, she signs in again, she sends mail; Rita's sign-ins are refused
in every way; and no secret shows in any log or RPC answer.
"""
import itertools
import time

import pytest
import requests

from .oauth_crm import CALLBACK, Salesperson


@pytest.fixture(scope='module')
def olga(oauth_crm):
    person = Salesperson(oauth_crm, 'olga')
    person.mailbox_id = person.create_mailbox()   # no address, no password: the sign-in tells
    return person


_ritas = itertools.count(1)


@pytest.fixture
def rita(oauth_crm):
    """A new salesperson for each refusal: nothing left over from the last one."""
    return Salesperson(oauth_crm, 'rita%d' % next(_ritas))


def _activities(crm, mailbox_id):
    return crm.admin('mail.activity', 'search_read', [
        ('res_model', '=', 'email.sync.mailbox'), ('res_id', '=', mailbox_id)], ['summary', 'note'])


def _xoauth2_logins(dovecot, user):
    with open(dovecot.log_path, encoding='utf-8', errors='replace') as handle:
        return sum(1 for line in handle if 'user=<%s>' % user in line and 'method=XOAUTH2' in line
                   and 'Login:' in line)


def test_sign_in_fills_the_address_lists_the_folders_and_syncs_over_xoauth2(olga, oauth_crm):
    where = olga.sign_in(olga.mailbox_id)
    assert where.endswith('/web#id=%d&model=email.sync.mailbox&view_type=form' % olga.mailbox_id)
    mailbox = olga.mailbox(olga.mailbox_id)
    assert mailbox['state'] == 'ok', mailbox['last_error']
    assert (mailbox['email'], mailbox['login'], mailbox['oauth_account']) == (olga.address,) * 3
    assert mailbox['auth_method'] == 'oauth' and mailbox['oauth_connected']
    assert not mailbox['has_password']
    assert mailbox['folder_count'] == 6
    logins_before = _xoauth2_logins(oauth_crm.dovecot, olga.address)
    assert logins_before >= 1      # Test connection logged in with the token

    sent = olga.deliver(4, 'first')
    result = olga.sync(olga.mailbox_id)
    assert (result['finished'], result['state']) == (True, 'ok')
    assert sorted(olga.stored_message_ids(olga.mailbox_id)) == sorted(sent)
    assert _xoauth2_logins(oauth_crm.dovecot, olga.address) > logins_before


def test_expired_token_is_renewed_and_the_rotated_refresh_token_kept(olga, oauth_crm):
    refresh_before, access_before = oauth_crm.stored_tokens(olga.mailbox_id)
    # The provider ends the access token early: the server refuses it, the
    # sync renews it once and goes on.
    assert oauth_crm.oauth.expire_access_tokens(olga.address) is not False
    olga.deliver(2, 'second')
    result = olga.sync(olga.mailbox_id)
    assert result['state'] == 'ok'
    assert len(olga.stored_message_ids(olga.mailbox_id)) == 6
    refresh_after, access_after = oauth_crm.stored_tokens(olga.mailbox_id)
    assert access_after != access_before
    assert refresh_after != refresh_before, 'the rotated refresh token was not stored'
    # A token about to expire is renewed before use, with the rotated token.
    oauth_crm.sql('UPDATE email_sync_oauth_token SET access_expires_at = %s WHERE mailbox_id = %s',
                  time.time() + 30, olga.mailbox_id)
    olga.deliver(1, 'third')
    assert olga.sync(olga.mailbox_id)['state'] == 'ok'
    refresh_third, access_third = oauth_crm.stored_tokens(olga.mailbox_id)
    assert access_third != access_after and refresh_third != refresh_after
    assert len(olga.stored_message_ids(olga.mailbox_id)) == 7


def test_workers_racing_for_an_expired_token_refresh_it_once(olga, oauth_crm):
    refresh_before, _access = oauth_crm.stored_tokens(olga.mailbox_id)
    oauth_crm.sql('UPDATE email_sync_oauth_token SET access_expires_at = 0 WHERE mailbox_id = %s',
                  olga.mailbox_id)
    race = oauth_crm.run('devenv.token_race', '--mailbox', olga.mailbox_id, '--workers', 6)
    assert race['errors'] == []
    assert len(race['digests']) == 6 and len(set(race['digests'])) == 1
    refresh_after, _access = oauth_crm.stored_tokens(olga.mailbox_id)
    assert refresh_after != refresh_before
    # Had two workers refreshed, the second would have been refused and the
    # sign-in lost; the stored refresh token still works.
    oauth_crm.sql('UPDATE email_sync_oauth_token SET access_expires_at = 0 WHERE mailbox_id = %s',
                  olga.mailbox_id)
    again = oauth_crm.run('devenv.token_race', '--mailbox', olga.mailbox_id, '--workers', 1)
    assert again['errors'] == [] and again['digests'] != race['digests']


def test_revoked_sign_in_needs_reconnecting_once_then_resumes_without_loss(olga, oauth_crm):
    assert oauth_crm.oauth.revoke_user(olga.address) >= 1
    missed = olga.deliver(3, 'while-revoked')
    for _attempt in range(2):
        result = olga.sync(olga.mailbox_id)
        assert result['state'] == 'auth_failed'
    mailbox = olga.mailbox(olga.mailbox_id)
    assert mailbox['state'] == 'auth_failed'
    assert 'no longer accepts the sign-in' in mailbox['last_error']
    assert not mailbox['oauth_connected']
    activities = _activities(oauth_crm, olga.mailbox_id)
    assert len(activities) == 1, activities
    assert 'sign in again' in activities[0]['note']
    assert oauth_crm.stored_tokens(olga.mailbox_id) == (None, None)

    olga.sign_in(olga.mailbox_id)
    mailbox = olga.mailbox(olga.mailbox_id)
    assert mailbox['state'] == 'ok' and mailbox['oauth_connected']
    assert _activities(oauth_crm, olga.mailbox_id) == []
    assert olga.sync(olga.mailbox_id)['state'] == 'ok'
    stored = olga.stored_message_ids(olga.mailbox_id)
    assert len(stored) == len(set(stored)) == 10
    assert set(missed) <= set(stored)
    assert olga.sync(olga.mailbox_id)['state'] == 'ok'
    assert len(olga.stored_message_ids(olga.mailbox_id)) == 10


def test_sending_signs_in_to_smtp_with_xoauth2_and_files_a_sent_copy(olga, oauth_crm):
    pat = Salesperson(oauth_crm, 'pat')
    customer = oauth_crm.admin('res.partner', 'create', {'name': 'Pat', 'email': pat.address})
    # The provider ends the token early: the SMTP server refuses it first.
    oauth_crm.oauth.expire_access_tokens(olga.address)
    composer = olga.rpc('email.sync.composer', 'create', {
        'mailbox_id': olga.mailbox_id, 'to_partner_ids': [(6, 0, [customer])],
        'subject': 'Quote over XOAUTH2', 'body': '<p>Here is the quote.</p>',
        'track_opens': False, 'track_clicks': False})
    olga.rpc('email.sync.composer', 'action_send', [composer])
    with oauth_crm.dovecot.imap_client(pat.address, pat.imap_password) as client:
        client.select_folder('INBOX', readonly=True)
        assert client.search(['SUBJECT', 'Quote over XOAUTH2'])
    with oauth_crm.dovecot.imap_client(olga.address, olga.imap_password) as client:
        client.select_folder('Sent', readonly=True)
        assert client.search(['SUBJECT', 'Quote over XOAUTH2'])
    with open(oauth_crm.relay.log_path, encoding='utf-8', errors='replace') as handle:
        log = handle.read()
    assert 'AUTH XOAUTH2 for %s: refused' % olga.address in log
    assert 'AUTH XOAUTH2 for %s: ok' % olga.address in log


def test_provider_down_is_retried_not_a_reason_to_reconnect(olga, oauth_crm):
    oauth_crm.oauth.stop()
    try:
        # Dovecot cannot check the (still valid) token: a temporary failure.
        result = olga.sync(olga.mailbox_id)
        assert result['state'] == 'error'
        assert 'cannot check logins right now' in olga.mailbox(olga.mailbox_id)['last_error']
        # The token expires meanwhile: its renewal cannot reach the provider.
        oauth_crm.sql('UPDATE email_sync_oauth_token SET access_expires_at = 0 '
                      'WHERE mailbox_id = %s', olga.mailbox_id)
        assert olga.sync(olga.mailbox_id)['state'] == 'error'
        mailbox = olga.mailbox(olga.mailbox_id)
        assert 'could not be reached to renew the sign-in' in mailbox['last_error']
        assert mailbox['oauth_connected'] and _activities(oauth_crm, olga.mailbox_id) == []
    finally:
        oauth_crm.oauth.start()
    assert olga.sync(olga.mailbox_id)['state'] == 'ok'
    assert olga.mailbox(olga.mailbox_id)['last_error'] is False


def test_a_broken_app_registration_keeps_the_sign_in_and_is_retried(olga, oauth_crm):
    # Client secrets expire (Microsoft's after two years at most): renewal is
    # refused until the administrator enters a new one; nobody must sign in again.
    oauth_crm.admin('email.sync.oauth.app', 'write', [oauth_crm.app_id], {'client_secret': 'expired'})
    try:
        oauth_crm.sql('UPDATE email_sync_oauth_token SET access_expires_at = 0 '
                      'WHERE mailbox_id = %s', olga.mailbox_id)
        assert olga.sync(olga.mailbox_id)['state'] == 'error'
        mailbox = olga.mailbox(olga.mailbox_id)
        assert 'refused the app registration of your company' in mailbox['last_error']
        assert mailbox['oauth_connected'] and _activities(oauth_crm, olga.mailbox_id) == []
    finally:
        oauth_crm.admin('email.sync.oauth.app', 'write', [oauth_crm.app_id],
                        {'client_secret': oauth_crm.client_secret})
    assert olga.sync(olga.mailbox_id)['state'] == 'ok'


def _refused(rita, callback_url, web=None):
    status, page = rita.come_back(callback_url, web)
    assert status == 200, (status, page[:300])
    assert 'The mailbox is not connected' in page
    return page


def _nothing_stored(crm, mailbox_id):
    assert crm.stored_tokens(mailbox_id) == (None, None)
    assert crm.sql('SELECT state, oauth_account FROM email_sync_mailbox WHERE id = %s',
                   mailbox_id) == [('draft', None)]


def test_refused_consent_connects_nothing_and_says_so(rita, oauth_crm):
    mailbox_id = rita.create_mailbox(email=rita.address)
    back = rita.consent(rita.press_sign_in(mailbox_id), allow=False)
    assert 'error=access_denied' in back
    assert 'You did not allow access to your mailbox at Local sign-in' in _refused(rita, back)
    _nothing_stored(oauth_crm, mailbox_id)


def test_tampered_state_is_refused_and_the_real_answer_still_works(rita, oauth_crm):
    mailbox_id = rita.create_mailbox(name='Tampered')
    back = rita.consent(rita.press_sign_in(mailbox_id))
    tampered = back.replace('state=', 'state=x', 1)
    assert 'This sign-in link is not valid' in _refused(rita, tampered)
    _nothing_stored(oauth_crm, mailbox_id)
    status, _where = rita.come_back(back)
    assert status == 303


def test_replayed_answer_is_refused(rita, oauth_crm):
    mailbox_id = rita.create_mailbox(name='Replayed')
    back = rita.consent(rita.press_sign_in(mailbox_id))
    assert rita.come_back(back)[0] == 303
    tokens = oauth_crm.stored_tokens(mailbox_id)
    assert 'has been used already' in _refused(rita, back)
    assert oauth_crm.stored_tokens(mailbox_id) == tokens


def test_answer_opened_in_another_users_session_is_refused(rita, oauth_crm):
    mallory = Salesperson(oauth_crm, 'mallory%d' % next(_ritas))
    mailbox_id = rita.create_mailbox(email=rita.address, name='Victim')
    back = rita.consent(rita.press_sign_in(mailbox_id))
    page = _refused(mallory, back, mallory.web)
    assert 'was started by another user' in page
    assert 'id=%d&' % mailbox_id not in page
    _nothing_stored(oauth_crm, mailbox_id)
    assert mallory.rpc('email.sync.mailbox', 'search', []) == []
    # Nor in Rita's own browser once the answer was spent elsewhere.
    assert 'has been used already' in _refused(rita, back)
    _nothing_stored(oauth_crm, mailbox_id)


def test_an_answer_reaching_a_logged_out_browser_is_sent_to_the_login(rita, oauth_crm):
    mailbox_id = rita.create_mailbox(email=rita.address, name='Logged out')
    back = rita.consent(rita.press_sign_in(mailbox_id))
    answer = requests.get(back, allow_redirects=False, timeout=30)   # no session cookie
    assert answer.status_code in (302, 303)
    assert '/web/login?redirect=' in answer.headers['Location']
    _nothing_stored(oauth_crm, mailbox_id)      # and its code stays out of the log (below)


def test_missing_pkce_verifier_is_refused(rita, oauth_crm):
    mailbox_id = rita.create_mailbox(email=rita.address, name='No verifier')
    url = rita.press_sign_in(mailbox_id)
    oauth_crm.sql('UPDATE email_sync_oauth_request SET secret_ciphertext = NULL '
                  'WHERE mailbox_id = %s', mailbox_id)
    assert 'its security code is missing' in _refused(rita, rita.consent(url))
    _nothing_stored(oauth_crm, mailbox_id)


def test_signing_in_as_another_account_is_refused(rita, olga, oauth_crm):
    mailbox_id = rita.create_mailbox(email=rita.address, name='Wrong account')
    back = rita.consent(rita.press_sign_in(mailbox_id), login=olga.address,
                        password=olga.oauth_password)
    page = _refused(rita, back)
    assert 'as %s, but this mailbox is %s' % (olga.address, rita.address) in page
    _nothing_stored(oauth_crm, mailbox_id)


def test_disconnect_forgets_the_sign_in_and_keeps_the_mail(olga, oauth_crm):
    refresh, _access = oauth_crm.stored_tokens(olga.mailbox_id)
    kept = len(olga.stored_message_ids(olga.mailbox_id))     # received, and the email sent above
    olga.rpc('email.sync.mailbox', 'action_oauth_disconnect', [olga.mailbox_id])
    mailbox = olga.mailbox(olga.mailbox_id)
    assert mailbox['state'] == 'draft' and not mailbox['oauth_connected']
    assert oauth_crm.stored_tokens(olga.mailbox_id) == (None, None)
    assert len(olga.stored_message_ids(olga.mailbox_id)) == kept
    # The provider was asked to revoke it: it no longer renews anything.
    answer = requests.post(oauth_crm.oauth.token_url, data={
        'grant_type': 'refresh_token', 'refresh_token': refresh, 'client_id': oauth_crm.client_id,
        'client_secret': oauth_crm.client_secret}, timeout=10)
    assert (answer.status_code, answer.json().get('error')) == (400, 'invalid_grant')
    # Switching to a password works on the same mailbox, with the mail kept.
    olga.rpc('email.sync.mailbox', 'write', [olga.mailbox_id], {
        'auth_method': 'password', 'password': olga.imap_password})
    olga.rpc('email.sync.mailbox', 'action_test_connection', [olga.mailbox_id])
    olga.deliver(1, 'after-switch')
    assert olga.sync(olga.mailbox_id)['state'] == 'ok'
    stored = olga.stored_message_ids(olga.mailbox_id)
    assert len(stored) == len(set(stored)) == kept + 1


def test_no_secret_in_any_log_or_rpc_answer(olga, rita, oauth_crm):
    secrets = {s for s in oauth_crm.secrets if s and len(s) >= 8}
    assert oauth_crm.client_secret in secrets and len(secrets) > 10
    logs = {'odoo': oauth_crm.server.log_path, 'dovecot': oauth_crm.dovecot.log_path,
            'smtp relay': oauth_crm.relay.log_path, 'oauth server': oauth_crm.oauth.log_path}
    for name, path in logs.items():
        with open(path, encoding='utf-8', errors='replace') as handle:
            text = handle.read()
        leaked = [s[:6] + '...' for s in secrets if s in text]
        assert not leaked, 'secrets in the %s log: %s' % (name, leaked)
    with open(oauth_crm.server.log_path, encoding='utf-8', errors='replace') as handle:
        assert CALLBACK + '?...' in handle.read()      # the request lines are there, cut
    answers = [olga.rpc('email.sync.mailbox', 'read', [olga.mailbox_id]),
               oauth_crm.admin('email.sync.mailbox', 'search_read', []),
               oauth_crm.admin('email.sync.oauth.app', 'search_read', []),
               oauth_crm.admin('email.sync.oauth.app', 'export_data',
                               [oauth_crm.app_id], ['client_secret', 'client_id'])]
    text = repr(answers)
    assert not [s for s in secrets if s in text]
