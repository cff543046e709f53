"""Signing a mailbox in with a provider, up to the provider's answer.

What needs the provider's token endpoint (exchanging the code, refreshing,
XOAUTH2 logins) runs against a real authorization server in
tests/system/test_oauth_sign_in.py; here: the set-up, the authorization
request, every refusal of the callback before a code is exchanged, and that
no secret is readable through the ORM.
"""
import datetime
from urllib.parse import parse_qs, urlsplit

from odoo.exceptions import AccessError, UserError

from ..lib import connection_errors, oauth_flow
from ..models import email_sync_mailbox_oauth as mailbox_oauth
from .common import EmailSyncCase

SECRET = 'client-secret-that-must-never-show'


class TestEmailSyncOauth(EmailSyncCase):

    def setUp(self):
        super(TestEmailSyncOauth, self).setUp()
        self.env['ir.config_parameter'].sudo().set_param('web.base.url', 'https://crm.example.com')
        self.google = self.env.ref('email_crm_sync.email_sync_oauth_app_google')
        self.microsoft = self.env.ref('email_crm_sync.email_sync_oauth_app_microsoft')

    def set_up_google(self):
        settings = self.env['res.config.settings'].sudo(self.admin).create({
            'email_sync_google_client_id': 'company-app.apps.example',
            'email_sync_google_client_secret': SECRET})
        settings.execute()

    def oauth_mailbox(self, user=None, **values):
        self.set_up_google()
        user = user or self.alice
        values = dict({'name': 'Work', 'email': user.email, 'provider_id': self.gmail.id,
                       'auth_method': 'oauth'}, **values)
        return self.env['email.sync.mailbox'].sudo(user).create(values)

    def pending(self, mailbox, session='session-of-alice'):
        """Start a sign-in; returns the state the provider will send back."""
        url = mailbox._oauth_begin(session)
        return parse_qs(urlsplit(url).query)['state'][0]

    def finish(self, user, state, session='session-of-alice', code='a-code', error=None):
        """The callback up to the code exchange, which these tests never reach."""
        mailboxes = self.env['email.sync.mailbox'].sudo(user)
        claim = mailboxes._oauth_claim(state, session)
        if claim['problem']:
            return claim['mailbox'], claim['problem'], claim['params']
        tokens, problem, params = mailboxes._oauth_exchange(claim, code, error)
        self.assertIsNone(tokens)
        return claim['mailbox'], problem, params

    def token_rows(self, mailbox):
        self.env.cr.execute('SELECT count(*) FROM email_sync_oauth_token WHERE mailbox_id = %s',
                            (mailbox.id,))
        return self.env.cr.fetchone()[0]

    # --- set-up by the administrator -----------------------------------------
    def test_admin_sets_up_google_and_the_secret_is_never_read_back(self):
        self.assertFalse(self.google.ready)
        self.set_up_google()
        google = self.google.sudo(self.admin)
        self.assertTrue(google.ready)
        self.assertEqual(google.redirect_uri, 'https://crm.example.com/email_crm_sync/oauth/callback')
        self.assertEqual(google._get_client_secret(), SECRET)
        for values in (google.read()[0], self.google.sudo().read()[0]):
            self.assertNotIn(SECRET, repr(values))
        self.assertNotIn(SECRET, repr(google.export_data(['client_secret', 'client_id'])))
        settings = self.env['res.config.settings'].sudo(self.admin).create({})
        self.assertNotIn(SECRET, repr(settings.read()))
        self.assertTrue(settings.email_sync_google_secret_saved)
        self.assertEqual(settings.email_sync_google_client_id, 'company-app.apps.example')
        # Encrypted at rest, and the transient settings never stored it.
        self.env.cr.execute('SELECT secret_ciphertext FROM email_sync_oauth_app WHERE id = %s',
                            (self.google.id,))
        self.assertNotIn(SECRET, self.env.cr.fetchone()[0])
        self.env.cr.execute("SELECT column_name FROM information_schema.columns WHERE "
                            "table_name = 'res_config_settings' AND column_name LIKE '%%secret%%'")
        self.assertEqual(self.env.cr.fetchall(), [])
        # The change is in the log of security changes.
        logged = self.env['email.sync.audit.log'].sudo().search([
            ('res_model', '=', 'email.sync.oauth.app'), ('res_id', '=', self.google.id)])
        self.assertTrue(logged)

    def test_only_administrators_change_sign_in_providers(self):
        for user in (self.manager, self.alice):
            with self.assertRaises(AccessError):
                self.google.sudo(user).write({'authorize_url': 'https://evil.example/authorize'})
            with self.assertRaises(AccessError):
                self.google.sudo(user)._set_client_secret('mine')
            with self.assertRaises(AccessError):
                self.env['res.config.settings'].sudo(user).create({
                    'email_sync_google_client_secret': 'mine'})
        self.assertFalse(self.google.has_client_secret)

    def test_microsoft_tenant_goes_into_its_endpoints(self):
        self.env['res.config.settings'].sudo(self.admin).create({
            'email_sync_microsoft_client_id': 'ms-app', 'email_sync_microsoft_client_secret': 's',
            'email_sync_microsoft_tenant': 'contoso.onmicrosoft.com'}).execute()
        endpoints = self.microsoft._endpoints()
        self.assertEqual(endpoints.token_url,
                         'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token')
        self.assertIn('https://outlook.office.com/IMAP.AccessAsUser.All', endpoints.scopes.split())
        self.assertIn('offline_access', endpoints.scopes.split())
        self.assertTrue(self.microsoft.ready)

    # --- the mailbox form ----------------------------------------------------------
    def test_form_offers_sign_in_only_once_the_provider_is_set_up(self):
        form = self.env['email.sync.mailbox'].sudo(self.alice).new({'provider_id': self.gmail.id})
        form._onchange_provider_auth_method()
        self.assertEqual(form.auth_method, 'password')
        self.set_up_google()
        form = self.env['email.sync.mailbox'].sudo(self.alice).new({'provider_id': self.gmail.id})
        form._onchange_provider_auth_method()
        self.assertEqual(form.auth_method, 'oauth')
        custom = self.env.ref('email_crm_sync.email_sync_provider_custom')
        form = self.env['email.sync.mailbox'].sudo(self.alice).new({'provider_id': custom.id})
        form._onchange_provider_auth_method()
        self.assertEqual(form.auth_method, 'password')

    def test_a_signed_in_mailbox_needs_no_address_up_front_a_password_one_does(self):
        mailbox = self.oauth_mailbox(email=False)
        self.assertFalse(mailbox.email)
        with self.assertRaises(Exception):
            self.env['email.sync.mailbox'].sudo(self.bob).create({
                'name': 'Work', 'provider_id': self.gmail.id, 'password': 'pw'})

    def test_sign_in_is_refused_when_the_provider_is_not_set_up(self):
        mailbox = self.mailbox_of(self.alice)
        with self.assertRaises(UserError):
            mailbox._oauth_begin('session-of-alice')

    def test_only_the_owner_starts_a_sign_in(self):
        mailbox = self.oauth_mailbox()
        for user in (self.bob, self.manager, self.admin):
            with self.assertRaises(AccessError):
                mailbox.sudo(user)._oauth_begin('their-session')

    # --- the authorization request ---------------------------------------------------
    def test_authorization_request_uses_pkce_s256_and_keeps_no_secret_in_clear(self):
        mailbox = self.oauth_mailbox()
        url = mailbox._oauth_begin('session-of-alice')
        parts = urlsplit(url)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        self.assertEqual('%s://%s%s' % (parts.scheme, parts.netloc, parts.path),
                         'https://accounts.google.com/o/oauth2/v2/auth')
        self.assertEqual(query['response_type'], 'code')
        self.assertEqual(query['client_id'], 'company-app.apps.example')
        self.assertEqual(query['redirect_uri'], 'https://crm.example.com/email_crm_sync/oauth/callback')
        self.assertEqual(query['code_challenge_method'], 'S256')
        self.assertEqual(query['scope'].split(), ['openid', 'email', 'https://mail.google.com/'])
        self.assertEqual((query['access_type'], query['prompt']), ('offline', 'consent'))
        self.assertEqual(query['login_hint'], 'alice@example.com')
        self.assertGreaterEqual(len(query['state']), 40)
        self.assertTrue(query['nonce'])
        self.assertNotIn(SECRET, url)
        self.env.cr.execute('SELECT state_hash, secret_ciphertext FROM email_sync_oauth_request '
                            'WHERE mailbox_id = %s', (mailbox.id,))
        (state_hash, ciphertext), = self.env.cr.fetchall()
        self.assertNotEqual(state_hash, query['state'])
        self.assertNotIn(query['state'], ciphertext)
        self.assertNotIn(query['nonce'], ciphertext)
        # The challenge is the S256 of a verifier the server keeps (encrypted).
        self.assertEqual(len(query['code_challenge']), 43)
        self.assertNotIn(query['code_challenge'], ciphertext)

    # --- refusals of the callback ------------------------------------------------------
    def assert_refused(self, mailbox, outcome, code):
        found, problem, _params = outcome
        self.assertEqual(problem, code)
        self.assertEqual(self.token_rows(mailbox), 0)
        mailbox.invalidate_cache()
        self.assertFalse(mailbox.oauth_connected)
        self.assertFalse(mailbox.oauth_account)
        self.assertEqual(mailbox.state, 'draft')
        return found

    def test_tampered_or_unknown_state_is_refused(self):
        mailbox = self.oauth_mailbox()
        state = self.pending(mailbox)
        tampered = state[:-1] + ('A' if state[-1] != 'A' else 'B')
        for bad in (tampered, '', None, state + 'x', "' OR 1=1 --"):
            found = self.assert_refused(mailbox, self.finish(self.alice, bad),
                                        mailbox_oauth.STATE_UNKNOWN)
            self.assertFalse(found)
        # Tampering spent nothing: the real answer would still be taken up.
        self.env.cr.execute('SELECT used_at FROM email_sync_oauth_request WHERE mailbox_id = %s',
                            (mailbox.id,))
        self.assertEqual(self.env.cr.fetchall(), [(None,)])

    def test_replayed_state_is_refused(self):
        mailbox = self.oauth_mailbox()
        state = self.pending(mailbox)
        self.assert_refused(mailbox, self.finish(self.alice, state, error='access_denied'),
                            oauth_flow.ACCESS_DENIED)
        self.assert_refused(mailbox, self.finish(self.alice, state), mailbox_oauth.STATE_USED)

    def test_answer_in_another_users_or_another_browsers_session_is_refused(self):
        mailbox = self.oauth_mailbox()
        state = self.pending(mailbox)
        found = self.assert_refused(mailbox, self.finish(self.bob, state, session='session-of-alice'),
                                    mailbox_oauth.OTHER_USER)
        self.assertFalse(found, 'the page must not point at the victim mailbox')
        state = self.pending(mailbox)
        found = self.assert_refused(mailbox, self.finish(self.alice, state, session='another-browser'),
                                    mailbox_oauth.OTHER_BROWSER)
        self.assertIn('https://crm.example.com', mailbox._oauth_problem_message(
            mailbox_oauth.OTHER_BROWSER, self.finish(self.alice, self.pending(mailbox),
                                                     session='x')[2]))
        # Both states are spent: neither can be replayed by its owner.
        self.env.cr.execute('SELECT count(*) FROM email_sync_oauth_request WHERE mailbox_id = %s '
                            'AND used_at IS NULL', (mailbox.id,))
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_expired_state_is_refused(self):
        mailbox = self.oauth_mailbox()
        state = self.pending(mailbox)
        self.env.cr.execute('UPDATE email_sync_oauth_request SET created_at = %s',
                            (datetime.datetime.utcnow() - datetime.timedelta(minutes=11),))
        self.assert_refused(mailbox, self.finish(self.alice, state), mailbox_oauth.STATE_EXPIRED)

    def test_consent_refused_and_client_errors_have_their_own_words(self):
        mailbox = self.oauth_mailbox()
        for error, code in (('access_denied', oauth_flow.ACCESS_DENIED),
                            ('invalid_client', oauth_flow.CLIENT_REJECTED),
                            ('unauthorized_client', oauth_flow.CLIENT_REJECTED),
                            ('invalid_scope', oauth_flow.CLIENT_REJECTED),
                            ('temporarily_unavailable', oauth_flow.PROVIDER_ERROR)):
            self.assert_refused(mailbox, self.finish(self.alice, self.pending(mailbox), error=error),
                                code)

    def test_missing_pkce_verifier_is_refused_before_any_exchange(self):
        mailbox = self.oauth_mailbox()
        state = self.pending(mailbox)
        self.env.cr.execute('UPDATE email_sync_oauth_request SET secret_ciphertext = NULL')
        self.assert_refused(mailbox, self.finish(self.alice, state), mailbox_oauth.MISSING_VERIFIER)

    def test_every_refusal_is_worded_differently_and_names_the_provider(self):
        mailbox = self.oauth_mailbox()
        codes = [mailbox_oauth.STATE_UNKNOWN, mailbox_oauth.STATE_USED, mailbox_oauth.STATE_EXPIRED,
                 mailbox_oauth.OTHER_USER, mailbox_oauth.OTHER_BROWSER, mailbox_oauth.MISSING_VERIFIER,
                 mailbox_oauth.WRONG_ACCOUNT, mailbox_oauth.ADDRESS_TAKEN,
                 oauth_flow.ACCESS_DENIED, oauth_flow.CLIENT_REJECTED, oauth_flow.GRANT_REFUSED,
                 oauth_flow.UNREACHABLE, oauth_flow.TIMEOUT, oauth_flow.BAD_ANSWER,
                 oauth_flow.PROVIDER_ERROR, oauth_flow.ID_TOKEN_INVALID, oauth_flow.NO_EMAIL,
                 oauth_flow.NO_REFRESH_TOKEN]
        params = {'signed_in': 'eve@example.com', 'email': 'alice@example.com',
                  'address': 'https://crm.example.com'}
        messages = [mailbox._oauth_problem_message(code, params) for code in codes]
        self.assertEqual(len(set(messages)), len(codes))
        self.assertIn('eve@example.com', messages[codes.index(mailbox_oauth.WRONG_ACCOUNT)])
        self.assertIn('Google', messages[codes.index(oauth_flow.ACCESS_DENIED)])
        self.assertIn('administrator', messages[codes.index(oauth_flow.CLIENT_REJECTED)])

    # --- tokens --------------------------------------------------------------------------
    def test_stored_tokens_are_never_returned_by_the_orm(self):
        mailbox = self.oauth_mailbox()
        tokens = oauth_flow.Tokens('access-token-secret', 4102444800.0, 'refresh-token-secret',
                                   'alice@example.com')
        mailbox._oauth_store(self.google, tokens)
        mailbox.invalidate_cache()
        self.assertTrue(mailbox.oauth_connected)
        self.assertEqual(mailbox._oauth_access_token(), 'access-token-secret')
        fields_ = list(mailbox._fields)
        for seen in (mailbox.read()[0], mailbox.export_data(fields_), mailbox.sudo().read()[0],
                     mailbox.search_read([('id', '=', mailbox.id)])):
            text = repr(seen)
            self.assertNotIn('access-token-secret', text)
            self.assertNotIn('refresh-token-secret', text)
        self.env.cr.execute('SELECT refresh_ciphertext || access_ciphertext FROM '
                            'email_sync_oauth_token WHERE mailbox_id = %s', (mailbox.id,))
        stored = self.env.cr.fetchone()[0]
        self.assertNotIn('token-secret', stored)

    def test_switching_to_a_password_forgets_the_sign_in_and_keeps_the_mailbox(self):
        mailbox = self.oauth_mailbox()
        self.google.revoke_url = False   # no provider to call here
        mailbox._oauth_store(self.google, oauth_flow.Tokens('a', 4102444800.0, 'r', ''))
        mailbox.write({'auth_method': 'password', 'password': 'app-password'})
        mailbox.invalidate_cache()
        self.assertEqual(self.token_rows(mailbox), 0)
        self.assertTrue(mailbox.has_password)
        self.assertEqual(mailbox._server_settings().password, 'app-password')

    def test_a_mailbox_without_its_sign_in_cannot_sync_and_says_so(self):
        mailbox = self.oauth_mailbox()
        with self.assertRaises(UserError) as raised:
            mailbox.action_sync_now()
        self.assertIn('Sign in with Google', raised.exception.name)
        mailbox.action_test_connection()
        self.assertEqual(mailbox.state, 'auth_failed')
        self.assertIn('not signed in', mailbox.last_error)

    # --- what the review found --------------------------------------------------------
    def test_only_administrators_link_a_preset_to_a_sign_in(self):
        values = {'name': 'Evil mail', 'code': 'evil', 'oauth_app_id': self.google.id,
                  'imap_host': 'imap.attacker.example', 'smtp_host': 'smtp.attacker.example'}
        with self.assertRaises(AccessError):
            self.env['email.sync.provider'].sudo(self.manager).create(values)
        with self.assertRaises(AccessError):
            self.env.ref('email_crm_sync.email_sync_provider_custom').sudo(self.manager).write(
                {'oauth_app_id': self.google.id})
        self.admin.groups_id |= self.env.ref('email_crm_sync.group_email_sync_manager')
        self.env['email.sync.provider'].sudo(self.admin).create(values)

    def test_a_token_goes_only_to_the_providers_own_mail_servers(self):
        mailbox = self.oauth_mailbox()
        mailbox._oauth_store(self.google, oauth_flow.Tokens('a-token', 4102444800.0, 'r', ''))
        self.assertEqual(mailbox._server_settings().oauth2_token, 'a-token')
        mailbox.write({'imap_host': 'imap.attacker.example'})
        with self.assertRaises(connection_errors.ConnectionProblem) as raised:
            mailbox._server_settings()
        self.assertIn('only sent to its own mail servers', raised.exception.message)
        mailbox.write({'imap_host': 'imap.gmail.com', 'smtp_host': 'smtp.attacker.example'})
        with self.assertRaises(connection_errors.ConnectionProblem):
            mailbox._smtp_settings()

    def test_tokens_of_another_provider_are_not_used_and_are_forgotten(self):
        mailbox = self.oauth_mailbox()
        self.google.revoke_url = False
        mailbox._oauth_store(self.google, oauth_flow.Tokens('google-token', 4102444800.0, 'r', ''))
        outlook = self.env.ref('email_crm_sync.email_sync_provider_outlook')
        mailbox.write({'provider_id': outlook.id})
        self.assertEqual(self.token_rows(mailbox), 0)
        mailbox.invalidate_cache()
        self.assertFalse(mailbox.oauth_connected)

    def test_the_signed_in_account_is_set_by_signing_in_only(self):
        mailbox = self.oauth_mailbox()
        with self.assertRaises(AccessError):
            mailbox.write({'oauth_account': 'ceo@example.com'})
        self.assertFalse(mailbox.oauth_account)

    def test_an_archived_mailbox_keeps_its_address(self):
        self.set_up_google()
        self.google.revoke_url = False
        old = self.mailbox_of(self.alice, email='Alice@Example.com')
        old.active = False
        mailbox = self.oauth_mailbox(email=False)
        problem, params = mailbox._oauth_accept(
            oauth_flow.Tokens('a', 4102444800.0, 'r', 'alice@example.com'))
        self.assertEqual((problem, params), (mailbox_oauth.ADDRESS_TAKEN, {'email': 'alice@example.com'}))
        self.assertEqual(self.token_rows(mailbox), 0)

    def test_signing_in_sets_the_login_to_the_account(self):
        self.set_up_google()
        mailbox = self.oauth_mailbox(login='old-password-login')
        problem, _params = mailbox._oauth_accept(
            oauth_flow.Tokens('a', 4102444800.0, 'r', 'alice@example.com'))
        self.assertIsNone(problem)
        self.assertEqual((mailbox.login, mailbox.oauth_account), ('alice@example.com',) * 2)
        self.assertEqual(mailbox._server_settings().login, 'alice@example.com')

