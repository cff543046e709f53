"""A local OAuth2 / OpenID Connect authorization server on 127.0.0.1.

It plays "Sign in with Google / Microsoft" for development and tests, with
the real protocol and no shortcut: the authorization-code flow with PKCE
(S256, required for every client), a sign-in and consent page, refresh
tokens that rotate, RS256-signed ID tokens, token revocation (RFC 7009),
token introspection (RFC 7662, which Dovecot's oauth2 passdb uses to check
XOAUTH2 logins), a JWKS, userinfo and the discovery document. The protocol
is Authlib's framework-agnostic server; this module gives it storage, a
WSGI front (Werkzeug) and a process.

State lives in one run directory and survives restarts: users, clients,
codes and tokens in a SQLite file (codes, tokens and client secrets only as
SHA-256 digests, passwords salted and stretched), the RSA signing key in a
PEM file. The controller (`OAuthServer`) edits that file directly, so users,
clients, revoked consents and expired tokens take effect at once, whether
the server runs or not.

Nothing secret is logged: requests are logged by path without the query
string, events by client and user only.

Runs as its own process (``python -m devenv.oauth_server --port P --run-dir
D``) like the SMTP relay; plain HTTP is fine on loopback, so
AUTHLIB_INSECURE_TRANSPORT is set inside that process only.
"""
import argparse
import hashlib
import hmac
import html
import json
import logging
import os
import secrets
import signal
import socketserver
import sqlite3
import sys
import threading
import time

from .paths import VENV_PYTHON, DEV_DIR, free_port
from . import procs

HOST = '127.0.0.1'
log = logging.getLogger('devenv.oauth_server')

DEFAULT_ACCESS_TOKEN_TTL = 3600
# RFC 6749 4.1.2: "A maximum authorization code lifetime of 10 minutes is
# RECOMMENDED."
CODE_TTL = 600
ID_TOKEN_TTL = 3600
PASSWORD_ITERATIONS = 50000
TOKEN_AUTH_METHODS = ['client_secret_basic', 'client_secret_post']
GRANT_TYPES = ('authorization_code', 'refresh_token')
STANDARD_SCOPES = ('openid', 'email', 'profile', 'offline_access')

DB_NAME = 'oauth.sqlite3'
KEY_NAME = 'oauth-signing-key.pem'

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    sub TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    scope TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    username TEXT NOT NULL,
    redirect_uri TEXT,
    scope TEXT NOT NULL,
    nonce TEXT,
    auth_time INTEGER NOT NULL,
    code_challenge TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    spent INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    access_hash TEXT NOT NULL UNIQUE,
    refresh_hash TEXT UNIQUE,
    client_id TEXT NOT NULL,
    username TEXT NOT NULL,
    scope TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    access_revoked INTEGER NOT NULL DEFAULT 0,
    refresh_revoked INTEGER NOT NULL DEFAULT 0,
    -- the code the first token of this chain was issued for: a replayed
    -- code revokes every token of its chain (RFC 6749 4.1.2)
    code_hash TEXT
);
CREATE INDEX IF NOT EXISTS tokens_username ON tokens (username);
CREATE INDEX IF NOT EXISTS tokens_code ON tokens (code_hash);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def _digest(secret):
    """What is stored of a code, token or client secret."""
    return hashlib.sha256(secret.encode('utf-8')).hexdigest()


def _hash_password(password):
    salt = os.urandom(16)
    derived = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, PASSWORD_ITERATIONS)
    return 'pbkdf2_sha256$%d$%s$%s' % (PASSWORD_ITERATIONS, salt.hex(), derived.hex())


def _check_password(password, stored):
    try:
        scheme, iterations, salt, expected = stored.split('$')
    except ValueError:
        return False
    if scheme != 'pbkdf2_sha256':
        return False
    derived = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'),
                                  bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(derived.hex(), expected)


def _scopes(scope):
    return [s for s in (scope or '').split() if s]


# -- the state store (shared by the server process and the controller) ------

class Store:
    """The server's state in one SQLite file; each call opens its own
    connection, so the server's threads and the controller's process can
    use it side by side (WAL journal, busy timeout)."""

    def __init__(self, path):
        self.path = path
        self._ready = False

    def _connect(self):
        if not self._ready:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=15)
        conn.row_factory = sqlite3.Row
        if not self._ready:
            conn.execute('PRAGMA journal_mode=WAL')
            conn.executescript(SCHEMA)
            self._ready = True
        return conn

    def _run(self, sql, params=()):
        """Execute one statement in its own transaction; the cursor's rowcount."""
        conn = self._connect()
        try:
            with conn:
                return conn.execute(sql, params).rowcount
        finally:
            conn.close()

    def _one(self, sql, params=()):
        conn = self._connect()
        try:
            row = conn.execute(sql, params).fetchone()
            return dict(row) if row else None
        finally:
            conn.close()

    def _all(self, sql, params=()):
        conn = self._connect()
        try:
            return [dict(row) for row in conn.execute(sql, params)]
        finally:
            conn.close()

    # settings

    def setting(self, name, default=None):
        row = self._one('SELECT value FROM settings WHERE name = ?', (name,))
        return row['value'] if row else default

    def set_setting(self, name, value):
        self._run('INSERT INTO settings (name, value) VALUES (?, ?) '
                  'ON CONFLICT (name) DO UPDATE SET value = excluded.value', (name, str(value)))

    def access_token_ttl(self):
        return int(self.setting('access_token_ttl', DEFAULT_ACCESS_TOKEN_TTL))

    # users

    def add_user(self, username, password):
        # A new password keeps the user's subject identifier.
        self._run('INSERT INTO users (username, password_hash, sub) VALUES (?, ?, ?) '
                  'ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash',
                  (username, _hash_password(password), secrets.token_hex(10)))

    def user(self, username):
        return self._one('SELECT * FROM users WHERE username = ?', (username,))

    def usernames(self):
        return [row['username'] for row in self._all('SELECT username FROM users ORDER BY username')]

    # clients

    def add_client(self, client_id, client_secret, redirect_uris, scope):
        self._run('INSERT INTO clients (client_id, secret_hash, redirect_uris, scope) '
                  'VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET '
                  'secret_hash = excluded.secret_hash, redirect_uris = excluded.redirect_uris, '
                  'scope = excluded.scope',
                  (client_id, _digest(client_secret), json.dumps(list(redirect_uris)), scope))

    def client(self, client_id):
        row = self._one('SELECT * FROM clients WHERE client_id = ?', (client_id,))
        if row:
            row['redirect_uris'] = json.loads(row['redirect_uris'])
        return row

    def clients(self):
        rows = self._all('SELECT client_id, redirect_uris, scope FROM clients ORDER BY client_id')
        for row in rows:
            row['redirect_uris'] = json.loads(row['redirect_uris'])
        return rows

    # authorization codes

    def save_code(self, code, **fields):
        fields['code_hash'] = _digest(code)
        names = sorted(fields)
        self._run('INSERT INTO codes (%s) VALUES (%s)' % (', '.join(names), ', '.join('?' * len(names))),
                  [fields[n] for n in names])

    def code(self, code):
        return self._one('SELECT * FROM codes WHERE code_hash = ?', (_digest(code),))

    def spend_code(self, code_hash):
        """Mark a code used; True if this call was the one that spent it."""
        return self._run('UPDATE codes SET spent = 1 WHERE code_hash = ? AND spent = 0',
                         (code_hash,)) == 1

    def nonce_used(self, client_id, nonce):
        return self._one('SELECT 1 AS x FROM codes WHERE client_id = ? AND nonce = ?',
                         (client_id, nonce)) is not None

    # tokens

    def save_token(self, access_token, refresh_token, client_id, username, scope,
                   expires_in, code_hash):
        now = int(time.time())
        self._run('INSERT INTO tokens (access_hash, refresh_hash, client_id, username, scope, '
                  'issued_at, expires_at, code_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                  (_digest(access_token), _digest(refresh_token) if refresh_token else None,
                   client_id, username, scope, now, now + int(expires_in), code_hash))

    def token_by_access(self, access_token):
        return self._one('SELECT * FROM tokens WHERE access_hash = ?', (_digest(access_token),))

    def token_by_refresh(self, refresh_token):
        return self._one('SELECT * FROM tokens WHERE refresh_hash = ?', (_digest(refresh_token),))

    def revoke_access(self, token_id):
        self._run('UPDATE tokens SET access_revoked = 1 WHERE id = ?', (token_id,))

    def revoke_refresh(self, token_id):
        self._run('UPDATE tokens SET refresh_revoked = 1 WHERE id = ?', (token_id,))

    def revoke_grant(self, token_id):
        """Revoke a token row's access and refresh token alike."""
        self._run('UPDATE tokens SET access_revoked = 1, refresh_revoked = 1 WHERE id = ?',
                  (token_id,))

    def revoke_code_chain(self, code_hash):
        return self._run('UPDATE tokens SET access_revoked = 1, refresh_revoked = 1 '
                         'WHERE code_hash = ?', (code_hash,))

    def revoke_user(self, username):
        """The user withdrew consent: every token and pending code is void."""
        conn = self._connect()
        try:
            with conn:
                count = conn.execute('UPDATE tokens SET access_revoked = 1, refresh_revoked = 1 '
                                     'WHERE username = ?', (username,)).rowcount
                conn.execute('UPDATE codes SET spent = 1 WHERE username = ?', (username,))
            return count
        finally:
            conn.close()

    def expire_access_tokens(self, username=None):
        past = int(time.time()) - 1
        if username is None:
            return self._run('UPDATE tokens SET expires_at = ? WHERE expires_at > ?', (past, past))
        return self._run('UPDATE tokens SET expires_at = ? WHERE expires_at > ? AND username = ?',
                         (past, past, username))


# -- the signing key -------------------------------------------------------

def load_signing_key(run_dir):
    """The run dir's RSA key (made once, kept in a 0600 PEM file), with its
    RFC 7638 thumbprint as kid."""
    from joserfc.jwk import RSAKey
    path = os.path.join(run_dir, KEY_NAME)
    try:
        with open(path, 'rb') as f:
            pem = f.read()
    except FileNotFoundError:
        key = RSAKey.generate_key(2048, private=True)
        pem = key.as_pem(private=True)
        fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(pem)
        os.replace(path + '.tmp', path)
    key = RSAKey.import_key(pem)
    key.ensure_kid()
    return key


# -- the server process: Authlib's protocol on Werkzeug --------------------------
#
# Authlib is imported inside the functions below so that `python -m devenv`
# (and the controller) do not need it; the process itself always does.

def build_app(run_dir, issuer):
    """The WSGI application of the authorization server."""
    from authlib.common.security import generate_token
    from authlib.oauth2 import rfc6749
    from authlib.oauth2.rfc6749 import grants
    from authlib.oauth2.rfc6749.errors import OAuth2Error, InvalidGrantError, InvalidRequestError
    from authlib.oauth2.rfc6749.resource_protector import ResourceProtector
    from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
    from authlib.oauth2.rfc7009 import RevocationEndpoint
    from authlib.oauth2.rfc7636 import CodeChallenge
    from authlib.oauth2.rfc7662 import IntrospectionEndpoint
    from authlib.oidc.core import UserInfo
    from authlib.oidc.core import grants as oidc_grants
    from authlib.oidc.core.models import AuthorizationCodeMixin
    from werkzeug.wrappers import Request, Response

    store = Store(os.path.join(run_dir, DB_NAME))
    key = load_signing_key(run_dir)

    # -- models (Authlib's mixins over the store's rows) --

    class User:
        def __init__(self, row):
            self.username = row['username']
            self.sub = row['sub']

        def get_user_id(self):
            return self.sub

        def info(self, scope):
            local = self.username.partition('@')[0]
            return UserInfo(sub=self.sub, email=self.username, email_verified=True,
                            name=local, preferred_username=self.username).filter(scope)

    def load_user(username):
        row = store.user(username)
        return User(row) if row else None

    class Client(rfc6749.ClientMixin):
        def __init__(self, row):
            self.client_id = row['client_id']
            self.secret_hash = row['secret_hash']
            self.redirect_uris = row['redirect_uris']
            self.scope = row['scope']
            self.client_metadata = {}

        def get_client_id(self):
            return self.client_id

        def get_default_redirect_uri(self):
            return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

        def get_allowed_scope(self, scope):
            allowed = _scopes(self.scope)
            if not scope:
                return ' '.join(allowed)
            wanted = _scopes(scope)
            # RFC 6749 3.3: a scope the client may not ask for is an error
            # (invalid_scope), not silently dropped.
            if not set(wanted) <= set(allowed):
                return None
            return ' '.join(wanted)

        def check_redirect_uri(self, redirect_uri):
            # Exact string match, as OAuth 2.1 and the providers require.
            return redirect_uri in self.redirect_uris

        def check_client_secret(self, client_secret):
            return hmac.compare_digest(_digest(client_secret), self.secret_hash)

        def check_endpoint_auth_method(self, method, endpoint):
            return method in TOKEN_AUTH_METHODS

        def check_response_type(self, response_type):
            return response_type == 'code'

        def check_grant_type(self, grant_type):
            return grant_type in GRANT_TYPES

    def load_client(client_id):
        row = store.client(client_id) if client_id else None
        return Client(row) if row else None

    class AuthorizationCode(AuthorizationCodeMixin):
        def __init__(self, row):
            self.row = row
            self.code_hash = row['code_hash']
            self.code_challenge = row['code_challenge']
            self.code_challenge_method = row['code_challenge_method']

        def get_redirect_uri(self):
            return self.row['redirect_uri']

        def get_scope(self):
            return self.row['scope']

        def get_nonce(self):
            return self.row['nonce']

        def get_auth_time(self):
            return self.row['auth_time']

    class Token(rfc6749.TokenMixin):
        """One row of the tokens table, seen as the access or the refresh
        token it was looked up by (`kind`)."""

        def __init__(self, row, kind):
            self.row = row
            self.kind = kind
            self.client_id = row['client_id']
            self.scope = row['scope']

        def check_client(self, client):
            return self.client_id == client.get_client_id()

        def get_scope(self):
            return self.scope

        def get_expires_in(self):
            return max(0, self.row['expires_at'] - int(time.time()))

        def is_expired(self):
            # Refresh tokens live until revoked, as Google's and Microsoft's
            # (for practical purposes) do.
            return self.kind == 'access_token' and self.row['expires_at'] <= time.time()

        def is_revoked(self):
            return bool(self.row['access_revoked' if self.kind == 'access_token'
                                 else 'refresh_revoked'])

        def get_user(self):
            return load_user(self.row['username'])

        def get_client(self):
            return load_client(self.client_id)

    def query_token(token_string, token_type_hint):
        lookups = [('access_token', store.token_by_access), ('refresh_token', store.token_by_refresh)]
        if token_type_hint == 'refresh_token':
            lookups.reverse()
        for kind, lookup in lookups:
            row = lookup(token_string)
            if row:
                return Token(row, kind)
        return None

    # -- grants and extensions --

    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

        def save_authorization_code(self, code, request):
            data = request.payload.data
            store.save_code(
                code, client_id=request.client.get_client_id(), username=request.user.username,
                redirect_uri=request.payload.redirect_uri, scope=request.scope,
                nonce=data.get('nonce'), auth_time=int(time.time()),
                code_challenge=data.get('code_challenge'),
                code_challenge_method=data.get('code_challenge_method'),
                expires_at=int(time.time()) + CODE_TTL)
            log.info('code issued to client %s for %s (scope %s)',
                     request.client.get_client_id(), request.user.username, request.scope)

        def query_authorization_code(self, code, client):
            row = store.code(code)
            if row is None or row['client_id'] != client.get_client_id():
                return None
            self.code_row = row
            if row['spent']:
                # RFC 6749 4.1.2: a code used twice SHOULD void the tokens
                # issued for it: someone else may hold it.
                revoked = store.revoke_code_chain(row['code_hash'])
                log.warning('client %s replayed a used code; %d token(s) of it revoked',
                            row['client_id'], revoked)
                return None
            if row['expires_at'] <= time.time():
                return None
            return AuthorizationCode(row)

        def delete_authorization_code(self, authorization_code):
            # Kept as spent rather than deleted: a replay must be told
            # from an unknown code, and nonces stay unique.
            store.spend_code(authorization_code.code_hash)

        def authenticate_user(self, authorization_code):
            return load_user(authorization_code.row['username'])

        def validate_token_request(self):
            # A code is good for one try by its client: a wrong redirect URI
            # or PKCE verifier spends it too (a thief gets one guess).
            self.code_row = None
            try:
                return super().validate_token_request()
            except OAuth2Error:
                if self.code_row is not None:
                    store.spend_code(self.code_row['code_hash'])
                raise

        def create_token_response(self):
            # Spend the code before the tokens exist: of two concurrent
            # exchanges of one code, only one gets tokens.
            if not store.spend_code(self.request.authorization_code.code_hash):
                raise InvalidGrantError("Invalid 'code' in request.")
            return super().create_token_response()

    class RefreshTokenGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
        # Rotation: every refresh answers a new refresh token and retires
        # the one it was given.
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token):
            row = store.token_by_refresh(refresh_token)
            if row and not row['refresh_revoked']:
                return Token(row, 'refresh_token')
            return None

        def authenticate_user(self, refresh_token):
            return load_user(refresh_token.row['username'])

        def revoke_old_credential(self, refresh_token):
            store.revoke_refresh(refresh_token.row['id'])
            log.info('refresh token of client %s for %s rotated',
                     refresh_token.client_id, refresh_token.row['username'])

    class S256CodeChallenge(CodeChallenge):
        """PKCE for every client, confidential ones too, S256 only (as OAuth
        2.1 and RFC 9700 ask)."""
        SUPPORTED_CODE_CHALLENGE_METHOD = ['S256']

        def validate_code_challenge(self, grant, redirect_uri):
            data = grant.request.payload.data
            if not data.get('code_challenge'):
                raise InvalidRequestError("PKCE is required: send 'code_challenge' "
                                          "with 'code_challenge_method=S256'.")
            if data.get('code_challenge_method') != 'S256':
                raise InvalidRequestError("Only 'code_challenge_method=S256' is supported.")
            return super().validate_code_challenge(grant, redirect_uri)

    class OpenIDCode(oidc_grants.OpenIDCode):
        def exists_nonce(self, nonce, request):
            return store.nonce_used(request.payload.client_id, nonce)

        def resolve_client_private_key(self, client):
            return key

        def get_client_algorithm(self, client):
            return 'RS256'

        def get_encode_header(self, client):
            return {'alg': 'RS256', 'kid': key.kid}

        def get_client_claims(self, client):
            now = int(time.time())
            return {'iss': issuer, 'aud': client.get_client_id(), 'iat': now,
                    'exp': now + ID_TOKEN_TTL}

        def generate_user_info(self, user, scope):
            return user.info(scope)

    # -- endpoints --

    class Revocation(RevocationEndpoint):
        CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

        def query_token(self, token_string, token_type_hint):
            return query_token(token_string, token_type_hint)

        def revoke_token(self, token, request):
            # RFC 7009 2.1: revoking a refresh token also voids the access
            # token of the same grant.
            if token.kind == 'refresh_token':
                store.revoke_grant(token.row['id'])
            else:
                store.revoke_access(token.row['id'])
            log.info('client %s revoked its %s for %s', token.client_id, token.kind,
                     token.row['username'])

    class Introspection(IntrospectionEndpoint):
        CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

        def query_token(self, token_string, token_type_hint):
            return query_token(token_string, token_type_hint)

        def check_permission(self, token, client, request):
            # Any registered client (a mail server is one) may check access
            # tokens; a refresh token is no business of anyone but the
            # client it was issued to, and must never pass for a login.
            return token.kind == 'access_token' or token.check_client(client)

        def introspect_token(self, token):
            username = token.row['username']
            user = load_user(username)
            payload = {
                'active': True, 'token_type': 'Bearer' if token.kind == 'access_token'
                else 'refresh_token',
                'scope': token.scope, 'client_id': token.client_id,
                'username': username, 'email': username,
                'sub': user.sub if user else None,
                'aud': token.client_id, 'iss': issuer, 'iat': token.row['issued_at'],
            }
            if token.kind == 'access_token':
                payload['exp'] = token.row['expires_at']
            return payload

        def create_introspection_payload(self, token):
            payload = super().create_introspection_payload(token)
            log.info('introspection: %s', 'active %s of %s' % (token.kind, token.row['username'])
                     if payload.get('active') else 'inactive')
            return payload

    class AccessTokenValidator(BearerTokenValidator):
        def authenticate_token(self, token_string):
            row = store.token_by_access(token_string)
            return Token(row, 'access_token') if row else None

    # -- the server --

    class Payload(rfc6749.OAuth2Payload):
        def __init__(self, request):
            self._request = request

        @property
        def data(self):
            return self._request.values

        @property
        def datalist(self):
            values = self._request.values
            return {name: values.getlist(name) for name in values}

    class OAuth2Request(rfc6749.OAuth2Request):
        def __init__(self, request):
            super().__init__(request.method, request.url, headers=request.headers)
            self._request = request
            self.payload = Payload(request)

        @property
        def args(self):
            return self._request.args

        @property
        def form(self):
            return self._request.form

    class JsonPayload(rfc6749.JsonPayload):
        def __init__(self, request):
            self._request = request

        @property
        def data(self):
            return self._request.get_json()

    class AuthorizationServer(rfc6749.AuthorizationServer):
        def query_client(self, client_id):
            return load_client(client_id)

        def save_token(self, token, request):
            if request.refresh_token is not None:
                code_hash = request.refresh_token.row['code_hash']
            else:
                code_hash = request.authorization_code.code_hash
            store.save_token(token['access_token'], token.get('refresh_token'),
                             request.client.get_client_id(), request.user.username,
                             token.get('scope', ''), token['expires_in'], code_hash)
            log.info('tokens issued to client %s for %s (%s, expires in %ss)',
                     request.client.get_client_id(), request.user.username,
                     request.payload.grant_type, token['expires_in'])

        def create_oauth2_request(self, request):
            if isinstance(request, rfc6749.OAuth2Request):
                return request
            return OAuth2Request(request)

        def create_json_request(self, request):
            json_request = rfc6749.JsonRequest(request.method, request.url, request.headers)
            json_request.payload = JsonPayload(request)
            return json_request

        def handle_response(self, status, body, headers):
            if isinstance(body, dict):
                body = json.dumps(body)
            return Response(body, status=status, headers=headers)

        def send_signal(self, name, *args, **kwargs):
            pass  # nobody listens: the events worth a line are logged where they happen

    def token_generator(length):
        def generate(**kwargs):
            return generate_token(length)
        return generate

    server = AuthorizationServer()
    server.register_token_generator('default', BearerTokenGenerator(
        token_generator(43), token_generator(48),
        lambda client, grant_type: store.access_token_ttl()))
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True), OpenIDCode()])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    protector = ResourceProtector()
    protector.register_token_validator(AccessTokenValidator())
    # Of two concurrent refreshes with one refresh token, only the first may
    # rotate it: token requests take turns.
    token_lock = threading.Lock()

    # -- views --

    def authorize(request):
        try:
            grant = server.get_consent_grant(request)
        except OAuth2Error as error:
            if error.redirect_uri:
                # The client and its redirect URI are known: tell the client.
                return server.handle_error_response(None, error)
            # RFC 6749 4.1.2.1: never redirect to an unverified URI.
            log.info('authorization request refused: %s', error.error)
            return _html_response(ERROR_PAGE.format(
                error=html.escape(error.error or ''),
                description=html.escape(error.get_error_description() or '')), 400)
        if request.method == 'GET':
            hint = request.args.get('login_hint', '')
            return _html_response(_consent_page(request, grant, login=hint))
        if 'deny' in request.form:
            log.info('consent denied for client %s', grant.client.get_client_id())
            return server.create_authorization_response(grant.request, grant_user=None, grant=grant)
        login = request.form.get('login', '').strip()
        row = store.user(login)
        if not row or not _check_password(request.form.get('password', ''), row['password_hash']):
            log.info('sign-in refused for %s', login or '(empty)')
            return _html_response(_consent_page(request, grant, login=login,
                                                error='Wrong email or password.'))
        return server.create_authorization_response(grant.request, grant_user=User(row),
                                                    grant=grant)

    def token(request):
        with token_lock:
            return server.create_token_response(request)

    def userinfo(request):
        try:
            access = protector.validate_request(['openid'], OAuth2Request(request))
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        user = access.get_user()
        if user is None:
            return server.handle_response(401, {'error': 'invalid_token'}, [])
        return server.handle_response(200, dict(user.info(access.scope)),
                                      [('Content-Type', 'application/json')])

    def jwks(request):
        return _json_response({'keys': [dict(key.as_dict(private=False), use='sig', alg='RS256')]})

    def discovery(request):
        scopes = set(STANDARD_SCOPES)
        for client in store.clients():
            scopes.update(_scopes(client['scope']))
        return _json_response({
            'issuer': issuer,
            'authorization_endpoint': issuer + '/authorize',
            'token_endpoint': issuer + '/token',
            'revocation_endpoint': issuer + '/revoke',
            'introspection_endpoint': issuer + '/introspect',
            'userinfo_endpoint': issuer + '/userinfo',
            'jwks_uri': issuer + '/jwks',
            'response_types_supported': ['code'],
            'response_modes_supported': ['query'],
            'grant_types_supported': list(GRANT_TYPES),
            'subject_types_supported': ['public'],
            'id_token_signing_alg_values_supported': ['RS256'],
            'token_endpoint_auth_methods_supported': TOKEN_AUTH_METHODS,
            'revocation_endpoint_auth_methods_supported': TOKEN_AUTH_METHODS,
            'introspection_endpoint_auth_methods_supported': TOKEN_AUTH_METHODS,
            'code_challenge_methods_supported': ['S256'],
            'scopes_supported': sorted(scopes),
            'claims_supported': ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce',
                                 'email', 'email_verified', 'name', 'preferred_username'],
        })

    routes = {
        '/authorize': (authorize, ('GET', 'POST')),
        '/token': (token, ('POST',)),
        '/revoke': (lambda r: server.create_endpoint_response('revocation', r), ('POST',)),
        '/introspect': (lambda r: server.create_endpoint_response('introspection', r), ('POST',)),
        '/userinfo': (userinfo, ('GET', 'POST')),
        '/jwks': (jwks, ('GET',)),
        '/.well-known/openid-configuration': (discovery, ('GET',)),
    }

    @Request.application
    def app(request):
        view, methods = routes.get(request.path, (None, ()))
        if view is None:
            return _json_response({'error': 'not_found'}, 404)
        if request.method not in methods:
            return Response(status=405, headers=[('Allow', ', '.join(methods))])
        try:
            return view(request)
        except Exception:
            # The traceback names code lines, never request values.
            log.exception('%s %s failed', request.method, request.path)
            return _json_response({'error': 'server_error'}, 500)

    return app


CONSENT_PAGE = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - devenv OAuth</title></head>
<body>
<h1>Sign in</h1>
<p id="client"><strong>{client_id}</strong> asks to access your account:</p>
<ul id="scopes">
{scopes}
</ul>
{error}<form method="post" action="{action}">
  <p><label for="login">Email</label>
     <input id="login" name="login" type="text" value="{login}" autocomplete="username"></p>
  <p><label for="password">Password</label>
     <input id="password" name="password" type="password" autocomplete="current-password"></p>
  <p><button type="submit" id="allow" name="allow" value="1">Allow</button>
     <button type="submit" id="deny" name="deny" value="1">Deny</button></p>
</form>
</body></html>
"""

ERROR_PAGE = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in request refused</title></head>
<body>
<h1>Sign-in request refused</h1>
<p id="error"><code>{error}</code>: {description}</p>
</body></html>
"""


def _consent_page(request, grant, login='', error=None):
    # The form posts back to the same URL: the authorization request's
    # parameters travel in the query string, the answer in the body.
    action = request.path + ('?' + request.query_string.decode('latin-1')
                             if request.query_string else '')
    return CONSENT_PAGE.format(
        client_id=html.escape(grant.client.get_client_id()),
        scopes='\n'.join('  <li>%s</li>' % html.escape(s) for s in _scopes(grant.request.scope)),
        error='<p id="error" role="alert">%s</p>\n' % html.escape(error) if error else '',
        action=html.escape(action), login=html.escape(login))


def _html_response(body, status=200):
    from werkzeug.wrappers import Response
    return Response(body, status=status, content_type='text/html; charset=utf-8',
                    headers=[('Cache-Control', 'no-store')])


def _json_response(data, status=200):
    from werkzeug.wrappers import Response
    return Response(json.dumps(data), status=status, content_type='application/json')


def _request_handler():
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        """Logs the method and path of each request, never the query string
        (where codes and states travel) nor anything else from the request."""

        def log_request(self, code='-', size='-'):
            path = getattr(self, 'path', '') or ''
            log.info('%s %s %s', getattr(self, 'command', '-'), path.partition('?')[0], code)

        def log_error(self, *args):
            # BaseHTTPRequestHandler puts the raw request line in these.
            log.warning('malformed HTTP request (%s)', args[1] if len(args) > 1 else '-')

    return QuietHandler


def serve(run_dir, port, access_token_ttl=None, pidfile=None):
    from werkzeug.serving import make_server
    # Plain HTTP is fine on loopback; Authlib refuses it otherwise.
    os.environ['AUTHLIB_INSECURE_TRANSPORT'] = '1'
    issuer = 'http://%s:%d' % (HOST, port)
    store = Store(os.path.join(run_dir, DB_NAME))
    if access_token_ttl is not None:
        store.set_setting('access_token_ttl', access_token_ttl)
    app = build_app(run_dir, issuer)
    httpd = make_server(HOST, port, app, threaded=True, request_handler=_request_handler())

    def stop(signum, frame):
        # shutdown() waits for serve_forever(), which runs in this thread.
        threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if pidfile:
        with open(pidfile, 'w') as f:
            f.write('%d\n' % os.getpid())
    log.info('listening on %s (access tokens live %ss)', issuer, store.access_token_ttl())
    try:
        # Werkzeug's serve_forever() polls for shutdown every 0.5 s; a
        # shorter poll makes stopping (every test session does) quicker.
        socketserver.BaseServer.serve_forever(httpd, poll_interval=0.1)
    finally:
        httpd.server_close()
        if pidfile:
            procs.remove_own_pidfile(pidfile)
    log.info('stopped')


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m devenv.oauth_server',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--run-dir', required=True)
    parser.add_argument('--access-token-ttl', type=int,
                        help='lifetime of new access tokens in seconds (default: as stored, '
                             'else %d)' % DEFAULT_ACCESS_TOKEN_TTL)
    parser.add_argument('--pidfile')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format='%(asctime)s %(name)s %(levelname)s %(message)s')
    # Authlib logs issued tokens at DEBUG; keep it and Werkzeug quiet for good.
    for name in ('authlib', 'werkzeug'):
        logging.getLogger(name).setLevel(logging.WARNING)
    serve(os.path.abspath(args.run_dir), args.port, args.access_token_ttl, args.pidfile)


# -- controlling the process -------------------------------------------------

class OAuthServer(procs.PythonService):
    """Starts and stops the server process; its files live in run_dir.

    Users, clients and the test controls (revoke_user, expire_access_tokens,
    set_access_token_ttl) act on the run dir's store directly: they work
    while the server runs, and before it starts.
    """
    log_name = 'oauth server log'
    module = 'devenv.oauth_server'
    host = HOST

    def __init__(self, run_dir, port=None, access_token_ttl=DEFAULT_ACCESS_TOKEN_TTL):
        self.run_dir = os.path.abspath(run_dir)
        self.port = port or free_port()
        self.access_token_ttl = access_token_ttl
        self.pidfile = os.path.join(self.run_dir, 'oauth-server.pid')
        self.log_path = os.path.join(self.run_dir, 'oauth-server.log')
        self.store = Store(os.path.join(self.run_dir, DB_NAME))
        self._proc = None

    # -- where it answers --

    @property
    def url(self):
        return 'http://%s:%d' % (self.host, self.port)

    @property
    def issuer(self):
        return self.url

    authorize_url = property(lambda self: self.url + '/authorize')
    token_url = property(lambda self: self.url + '/token')
    revoke_url = property(lambda self: self.url + '/revoke')
    introspect_url = property(lambda self: self.url + '/introspect')
    jwks_url = property(lambda self: self.url + '/jwks')
    userinfo_url = property(lambda self: self.url + '/userinfo')
    discovery_url = property(lambda self: self.url + '/.well-known/openid-configuration')

    # -- users and clients --

    def add_user(self, username, password):
        """Add (or re-password) a user; the username is the email address
        and the mailbox login."""
        if not username or any(c.isspace() for c in username):
            raise ValueError('unusable username: %r' % (username,))
        self.store.add_user(username, password)

    def users(self):
        return self.store.usernames()

    def add_client(self, client_id, client_secret, redirect_uris, scope):
        """Register (or update) a confidential client. redirect_uris: one
        URI or a list, matched exactly; scope: the scopes it may ask for,
        space separated (its default when a request names none)."""
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        if isinstance(scope, (list, tuple)):
            scope = ' '.join(scope)
        if not client_id or not client_secret:
            raise ValueError('a client needs an id and a secret')
        self.store.add_client(client_id, client_secret, redirect_uris, scope)

    def clients(self):
        return self.store.clients()

    def dovecot_settings(self, client_id='dovecot', client_secret=None):
        """Register the client Dovecot introspects tokens as, and return the
        `oauth2` argument for devenv.dovecot.Dovecot. A new secret each call
        (Dovecot writes its config at every start): two Dovecots on one
        server need a client_id each."""
        client_secret = client_secret or secrets.token_urlsafe(24)
        self.add_client(client_id, client_secret, [], '')
        return dict(introspection_url=self.introspect_url, client_id=client_id,
                    client_secret=client_secret)

    # -- test controls --

    def revoke_user(self, username):
        """The user withdraws consent: all their tokens stop working."""
        return self.store.revoke_user(username)

    def expire_access_tokens(self, username=None):
        """Make current access tokens (of one user, or everyone's) expired,
        so clients must refresh."""
        return self.store.expire_access_tokens(username)

    def set_access_token_ttl(self, seconds):
        """Lifetime of access tokens issued from now on (until restart)."""
        self.access_token_ttl = int(seconds)
        self.store.set_setting('access_token_ttl', int(seconds))

    # -- lifecycle --

    def command(self):
        return [VENV_PYTHON, '-m', 'devenv.oauth_server', '--port', str(self.port),
                '--run-dir', self.run_dir, '--access-token-ttl', str(self.access_token_ttl),
                '--pidfile', self.pidfile]

    def start(self):
        if self.is_running():
            return self
        os.makedirs(self.run_dir, exist_ok=True)
        self.store.access_token_ttl()  # creates the store before the server reads it
        return self._spawn(DEV_DIR)


if __name__ == '__main__':
    main()
