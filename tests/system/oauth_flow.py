"""An OAuth2 client application's steps against devenv's OAuth server, over
HTTP as a browser and a web app would take them: the authorization request
with PKCE, the person's answer on the consent page, the token requests.

`App.secrets` keeps every secret the app saw or sent (its client secret,
passwords, verifiers, codes, tokens), for tests that check logs for them.
"""
import base64
import hashlib
import secrets
import urllib.parse

import requests


def pkce_pair():
    """(code_verifier, S256 code_challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode('ascii')).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')


def redirect_params(response):
    """The query parameters of a redirect's Location (one value each)."""
    assert response.status_code == 302, (response.status_code, response.text[:500])
    query = urllib.parse.urlsplit(response.headers['Location']).query
    return dict(urllib.parse.parse_qsl(query))


class SignIn:
    """An authorization request the person allowed: the code, and what the
    app must keep to exchange it."""

    def __init__(self, code, verifier, params):
        self.code, self.verifier, self.params = code, verifier, params


class App:
    """A confidential client registered on `server` (devenv.oauth_server.OAuthServer)."""

    def __init__(self, server, client_id, client_secret, redirect_uri, scope):
        self.server = server
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri, self.scope = redirect_uri, scope
        server.add_client(client_id, client_secret, [redirect_uri], scope)
        self.secrets = {client_secret}

    def _keep(self, *values):
        self.secrets.update(v for v in values if v)
        return values[0] if len(values) == 1 else values

    # -- the authorization request, in the person's browser --

    def authorization_request(self, **overrides):
        """(params, code_verifier); an override of None leaves a parameter out."""
        verifier, challenge = pkce_pair()
        self._keep(verifier)
        params = dict(response_type='code', client_id=self.client_id,
                      redirect_uri=self.redirect_uri, scope=self.scope,
                      state=secrets.token_urlsafe(8), code_challenge=challenge,
                      code_challenge_method='S256')
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}, verifier

    def open_consent(self, params):
        return requests.get(self.server.authorize_url, params=params, allow_redirects=False,
                            timeout=10)

    def answer(self, page, login='', password='', allow=True):
        """Fill in the consent page and press Allow (or Deny)."""
        self._keep(password)
        button = 'allow' if allow else 'deny'
        return requests.post(page.url, data={'login': login, 'password': password, button: '1'},
                             allow_redirects=False, timeout=10)

    def sign_in(self, login, password, **overrides):
        params, verifier = self.authorization_request(**overrides)
        page = self.open_consent(params)
        assert page.status_code == 200, page.text[:500]
        answer = redirect_params(self.answer(page, login, password))
        assert answer.get('state') == params['state'], answer
        return SignIn(self._keep(answer['code']), verifier, params)

    # -- the app's server talking to the token endpoint --

    def _auth(self, how, data):
        if how == 'basic':
            return (self.client_id, self.client_secret)
        data.update(client_id=self.client_id, client_secret=self.client_secret)
        return None

    def exchange(self, code, verifier, redirect_uri=None, auth='basic'):
        """POST /token with grant_type=authorization_code; the response."""
        data = dict(grant_type='authorization_code', code=code,
                    redirect_uri=redirect_uri or self.redirect_uri)
        if verifier is not None:
            data['code_verifier'] = verifier
        response = requests.post(self.server.token_url, data=data, auth=self._auth(auth, data),
                                 timeout=10)
        self._keep_tokens(response)
        return response

    def tokens(self, login, password, **overrides):
        """Sign in and exchange the code: the token response's JSON."""
        grant = self.sign_in(login, password, **overrides)
        response = self.exchange(grant.code, grant.verifier)
        assert response.status_code == 200, response.text
        return response.json()

    def refresh(self, refresh_token, auth='post'):
        data = dict(grant_type='refresh_token', refresh_token=refresh_token)
        response = requests.post(self.server.token_url, data=data, auth=self._auth(auth, data),
                                 timeout=10)
        self._keep_tokens(response)
        return response

    def introspect(self, token):
        data = dict(token=token)
        response = requests.post(self.server.introspect_url, data=data,
                                 auth=self._auth('basic', data), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def revoke(self, token, hint=None):
        data = dict(token=token)
        if hint:
            data['token_type_hint'] = hint
        return requests.post(self.server.revoke_url, data=data, auth=self._auth('basic', data),
                             timeout=10)

    def _keep_tokens(self, response):
        if response.status_code == 200:
            body = response.json()
            self._keep(body.get('access_token'), body.get('refresh_token'), body.get('id_token'))
