"""The parts of the sign-in flow that need no provider: the authorization
request, the XOAUTH2 string, the wording codes of the provider's errors, and
that tokens stay out of reprs. The token endpoint itself is exercised against
a real authorization server in tests/system/test_oauth_sign_in.py."""
import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

from email_crm_sync.lib import oauth_flow
from email_crm_sync.lib.imap_session import ServerSettings

ENDPOINTS = oauth_flow.Endpoints(
    authorize_url='https://id.example/authorize?tenant=acme', token_url='https://id.example/token',
    scopes='openid email mail', extra_params=(('access_type', 'offline'),))
CLIENT = oauth_flow.Client('app-1', 'app-secret', 'https://crm.example/cb')


def _query(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_each_request_has_fresh_state_verifier_and_nonce_and_an_s256_challenge():
    first = oauth_flow.start(ENDPOINTS, CLIENT, login_hint='ana@example.com')
    second = oauth_flow.start(ENDPOINTS, CLIENT)
    assert len({first.state, second.state}) == 2
    assert len({first.code_verifier, second.code_verifier}) == 2
    assert 43 <= len(first.code_verifier) <= 128
    query = _query(first.url)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(first.code_verifier.encode()).digest()).rstrip(b'=').decode()
    assert query['code_challenge'] == challenge
    assert query['code_challenge_method'] == 'S256'
    assert (query['state'], query['nonce']) == (first.state, first.nonce)
    assert query['redirect_uri'] == 'https://crm.example/cb'
    assert query['login_hint'] == 'ana@example.com'
    assert query['access_type'] == 'offline'
    assert query['tenant'] == 'acme'          # the endpoint's own parameters are kept
    assert 'app-secret' not in first.url and first.code_verifier not in first.url
    assert 'login_hint' not in _query(second.url)


def test_provider_errors_map_to_what_the_user_is_told():
    assert oauth_flow.authorization_error('access_denied').code == oauth_flow.ACCESS_DENIED
    for error in ('invalid_client', 'unauthorized_client', 'invalid_scope', 'invalid_request'):
        assert oauth_flow.authorization_error(error).code == oauth_flow.CLIENT_REJECTED
    odd = oauth_flow.authorization_error('server_error\r\nX-Injected: 1' + 'x' * 500)
    assert odd.code == oauth_flow.PROVIDER_ERROR
    assert '\r' not in odd.detail and '\n' not in odd.detail and len(odd.detail) <= 60


def test_exchange_without_a_verifier_is_refused_before_any_request():
    try:
        oauth_flow.exchange_code(ENDPOINTS, CLIENT, 'a-code', '', 'nonce')
    except oauth_flow.OAuthProblem as problem:
        assert problem.code == oauth_flow.GRANT_REFUSED
    else:
        raise AssertionError('a code was exchanged without its PKCE verifier')


def test_unreachable_token_endpoint_is_a_network_problem():
    closed = oauth_flow.Endpoints(authorize_url='http://127.0.0.1:9/a',
                                  token_url='http://127.0.0.1:9/token', scopes='mail')
    try:
        oauth_flow.refresh(closed, CLIENT, 'refresh-1', timeout=3)
    except oauth_flow.OAuthProblem as problem:
        assert problem.code == oauth_flow.UNREACHABLE and problem.is_network
    else:
        raise AssertionError('a refresh against a closed port succeeded')


def test_xoauth2_string_and_reprs_without_secrets():
    assert oauth_flow.xoauth2('ana@example.com', 'tok') == 'user=ana@example.com\x01auth=Bearer tok\x01\x01'
    tokens = oauth_flow.Tokens('access-123', 1.0, 'refresh-456', 'ana@example.com')
    settings = ServerSettings('imap.example', 993, 'ssl', 'ana', '', oauth2_token='access-123')
    authorization = oauth_flow.start(ENDPOINTS, CLIENT)
    for text in (repr(tokens), repr(settings), repr(CLIENT), repr(authorization)):
        assert 'access-123' not in text and 'refresh-456' not in text and 'app-secret' not in text
        assert authorization.code_verifier not in text
