"""OAuth2 sign-in for mailboxes: the authorization-code flow with PKCE.

Plain Python on Authlib's client (``OAuth2Session``) and joserfc (ID
tokens). Nothing here knows Odoo: the caller stores what it returns and
words the problem codes it raises (``OAuthProblem.code``) for the user.

The steps:
- ``start``: the URL to send the user to, with a fresh ``state``, PKCE
  ``code_verifier`` (S256) and OpenID ``nonce`` for the caller to keep.
- ``exchange_code``: the code of the callback for tokens, checked ID token.
- ``refresh``: a new access token (and, with rotation, refresh token).
- ``revoke``: best effort; the caller forgets the tokens anyway.
- ``xoauth2``: the SASL XOAUTH2 string IMAP and SMTP servers take.
"""
import time
from dataclasses import dataclass

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# Problem codes (the Odoo layer words them).
ACCESS_DENIED = 'access_denied'          # the user refused consent
CLIENT_REJECTED = 'client_rejected'      # client id/secret, redirect URI or scopes refused
GRANT_REFUSED = 'grant_refused'          # code or refresh token no longer valid
UNREACHABLE = 'unreachable'              # network error, refused connection
TIMEOUT = 'timeout'
BAD_ANSWER = 'bad_answer'                # not an OAuth answer (HTML error page, 5xx)
PROVIDER_ERROR = 'provider_error'        # an error the provider names otherwise
ID_TOKEN_INVALID = 'id_token_invalid'    # signature, audience, nonce or expiry wrong
NO_EMAIL = 'no_email'                    # the identity carries no address
NO_REFRESH_TOKEN = 'no_refresh_token'    # access without a lasting grant

NETWORK_CODES = (UNREACHABLE, TIMEOUT, BAD_ANSWER)

# Errors of the authorization response and of the token endpoint that mean
# the app registration does not match what the provider knows.
_CLIENT_ERRORS = {'invalid_client', 'unauthorized_client', 'invalid_scope',
                  'unsupported_response_type', 'unsupported_grant_type', 'invalid_request'}

DEFAULT_TIMEOUT = 20.0


class OAuthProblem(Exception):
    """A sign-in or token step that failed; ``code`` is one of the above,
    ``detail`` the provider's own error name (for the server log)."""

    def __init__(self, code, detail=''):
        super().__init__(code)
        self.code = code
        self.detail = detail

    @property
    def is_network(self):
        return self.code in NETWORK_CODES


@dataclass(frozen=True)
class Endpoints:
    """Where a provider signs users in; from the provider preset data."""
    authorize_url: str
    token_url: str
    scopes: str
    revoke_url: str = ''
    jwks_url: str = ''
    issuer: str = ''
    # Extra authorization parameters, e.g. Google's access_type=offline.
    extra_params: tuple = ()


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str

    def __repr__(self):
        return 'Client(client_id=%r)' % self.client_id


@dataclass(frozen=True)
class Authorization:
    """What ``start`` returns: keep state, verifier and nonce server-side."""
    url: str
    state: str
    code_verifier: str
    nonce: str

    def __repr__(self):
        return 'Authorization(...)'


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: float      # epoch seconds
    refresh_token: str     # '' when the provider sent none (keep the old one)
    email: str = ''        # from the ID token, on sign-in only

    def __repr__(self):
        # Never let a token reach a log or an error report.
        return 'Tokens(expires_at=%r, email=%r)' % (self.expires_at, self.email)


def _session(endpoints, client, timeout):
    return OAuth2Session(
        client.client_id, client.client_secret, scope=endpoints.scopes,
        redirect_uri=client.redirect_uri, code_challenge_method='S256',
        token_endpoint_auth_method='client_secret_post', default_timeout=timeout)


def start(endpoints, client, login_hint=''):
    """A new authorization request: the URL to open and the secrets to keep."""
    state = generate_token(43)
    verifier = generate_token(64)   # RFC 7636: 43 to 128 characters
    nonce = generate_token(32)
    extra = dict(endpoints.extra_params)
    if login_hint:
        extra['login_hint'] = login_hint
    with _session(endpoints, client, DEFAULT_TIMEOUT) as session:
        url, _state = session.create_authorization_url(
            endpoints.authorize_url, state=state, code_verifier=verifier, nonce=nonce, **extra)
    return Authorization(url=url, state=state, code_verifier=verifier, nonce=nonce)


def authorization_error(error):
    """The problem for an ``error`` the provider sent back to the callback."""
    if error == 'access_denied':
        return OAuthProblem(ACCESS_DENIED, error)
    if error in _CLIENT_ERRORS:
        return OAuthProblem(CLIENT_REJECTED, error)
    return OAuthProblem(PROVIDER_ERROR, _printable(error))


def exchange_code(endpoints, client, code, code_verifier, nonce, timeout=DEFAULT_TIMEOUT):
    """Tokens for the code of the callback; the ID token's address checked.

    Raises OAuthProblem. A provider that grants no refresh token is refused
    here: the mailbox would stop syncing within the hour.
    """
    if not code_verifier:
        raise OAuthProblem(GRANT_REFUSED, 'no code_verifier')
    token = _call(lambda session: session.fetch_token(
        endpoints.token_url, grant_type='authorization_code', code=code,
        code_verifier=code_verifier), endpoints, client, timeout)
    tokens = _tokens(token, '')
    if not tokens.refresh_token:
        raise OAuthProblem(NO_REFRESH_TOKEN)
    email = id_token_email(token.get('id_token'), endpoints, client, nonce, timeout)
    return Tokens(tokens.access_token, tokens.expires_at, tokens.refresh_token, email)


def refresh(endpoints, client, refresh_token, timeout=DEFAULT_TIMEOUT):
    """A new access token. ``refresh_token`` of the answer is the new one to
    store when the provider rotates them, else the one given."""
    token = _call(lambda session: session.refresh_token(
        endpoints.token_url, refresh_token=refresh_token), endpoints, client, timeout)
    return _tokens(token, refresh_token)


def revoke(endpoints, client, token, timeout=5.0):
    """Ask the provider to revoke a token; False when it could not be done."""
    if not endpoints.revoke_url or not token:
        return False
    try:
        with _session(endpoints, client, timeout) as session:
            response = session.revoke_token(endpoints.revoke_url, token=token)
        return response.status_code == 200
    except (requests.RequestException, OAuthError, ValueError):
        return False


def xoauth2(user, access_token):
    """The SASL XOAUTH2 initial response (before base64)."""
    return 'user=%s\x01auth=Bearer %s\x01\x01' % (user, access_token)


def id_token_email(id_token, endpoints, client, nonce, timeout=DEFAULT_TIMEOUT):
    """The verified address of the ID token ('' when the provider sends no
    ID token or no way to check it and nothing is asked of it)."""
    if not id_token:
        if 'openid' in endpoints.scopes.split():
            raise OAuthProblem(ID_TOKEN_INVALID, 'no id_token')
        return ''
    if not endpoints.jwks_url:
        raise OAuthProblem(ID_TOKEN_INVALID, 'no jwks_url')
    keys = _fetch_json(endpoints.jwks_url, timeout)
    try:
        decoded = jwt.decode(id_token, KeySet.import_key_set(keys), algorithms=['RS256', 'ES256'])
        options = {'aud': {'essential': True, 'value': client.client_id},
                   'exp': {'essential': True},
                   'nonce': {'essential': True, 'value': nonce}}
        # Multi-tenant issuers ("common") name the user's tenant: no fixed value.
        if endpoints.issuer and '{' not in endpoints.issuer:
            options['iss'] = {'essential': True, 'value': endpoints.issuer}
        jwt.JWTClaimsRegistry(leeway=120, **options).validate(decoded.claims)
    except (JoseError, ValueError, KeyError, TypeError) as error:
        raise OAuthProblem(ID_TOKEN_INVALID, error.__class__.__name__) from None
    claims = decoded.claims
    email = claims.get('email') or claims.get('preferred_username') or ''
    if not isinstance(email, str) or '@' not in email:
        raise OAuthProblem(NO_EMAIL)
    if claims.get('email_verified') is False:
        raise OAuthProblem(NO_EMAIL, 'email not verified')
    return email.strip()


def _call(step, endpoints, client, timeout):
    """Run one token-endpoint step, problems as OAuthProblem."""
    try:
        with _session(endpoints, client, timeout) as session:
            token = step(session)
    except OAuthError as error:
        name = getattr(error, 'error', '') or ''
        if name == 'invalid_grant':
            raise OAuthProblem(GRANT_REFUSED, name) from None
        if name in _CLIENT_ERRORS:
            raise OAuthProblem(CLIENT_REJECTED, name) from None
        raise OAuthProblem(PROVIDER_ERROR, _printable(name)) from None
    except requests.Timeout:
        raise OAuthProblem(TIMEOUT) from None
    except requests.HTTPError as error:
        # Not an OAuth error answer (a proxy's or a gateway's page): nothing
        # can be concluded about the grant or the client.
        status = error.response.status_code if error.response is not None else 0
        raise OAuthProblem(BAD_ANSWER, 'HTTP %s' % status) from None
    except requests.RequestException as error:
        raise OAuthProblem(UNREACHABLE, error.__class__.__name__) from None
    except ValueError as error:   # not JSON
        raise OAuthProblem(BAD_ANSWER, error.__class__.__name__) from None
    if not isinstance(token.get('access_token'), str) or not token['access_token'] \
            or not isinstance(token.get('refresh_token') or '', str) \
            or not isinstance(token.get('id_token') or '', str):
        raise OAuthProblem(BAD_ANSWER, 'no access_token')
    return token


def _tokens(token, old_refresh_token):
    try:
        lifetime = float(token.get('expires_in') or 3600)
    except (TypeError, ValueError):
        lifetime = 3600.0
    if not 0 < lifetime < 10 ** 8:   # nan, negative or absurd: the usual hour
        lifetime = 3600.0
    return Tokens(access_token=token['access_token'], expires_at=time.time() + lifetime,
                  refresh_token=token.get('refresh_token') or old_refresh_token or '')


def _fetch_json(url, timeout):
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        return response.json()
    except requests.Timeout:
        raise OAuthProblem(TIMEOUT) from None
    except requests.HTTPError:
        raise OAuthProblem(BAD_ANSWER, 'jwks') from None
    except requests.RequestException as error:
        raise OAuthProblem(UNREACHABLE, error.__class__.__name__) from None
    except ValueError:
        raise OAuthProblem(BAD_ANSWER, 'jwks') from None


def _printable(text, limit=60):
    """A provider's error name, safe to log: short, printable ASCII."""
    text = str(text or '')[:limit]
    return ''.join(ch for ch in text if 32 <= ord(ch) < 127)
