"""Tracking tokens: what verifies, what does not, and what is not a token at all."""
import re

import pytest

from email_crm_sync.lib import tracking_token as tt

SECRET = 'database-secret-0123456789'
NONCE = 'q3Xv0kR1b2YtZ1d9Lm4Pqw'  # fixed, so the tables are the same every run
URL_SAFE = re.compile(r'[A-Za-z0-9_.-]+')


def ids(cases):
    return [c[0] for c in cases]


def test_nonce_is_16_random_bytes_url_safe():
    nonces = {tt.new_nonce() for _ in range(50)}
    assert len(nonces) == 50
    for nonce in nonces:
        assert len(nonce) == 22 and URL_SAFE.fullmatch(nonce) and '=' not in nonce


@pytest.mark.parametrize('kind', ['o', 'c'])
@pytest.mark.parametrize('email_id, link_index', [(1, 0), (42, 7), (2 ** 31 - 1, 2 ** 31 - 1), (0, 0)])
def test_round_trip(kind, email_id, link_index):
    token = tt.make_token(SECRET, email_id, NONCE, kind, link_index)
    assert URL_SAFE.fullmatch(token)
    assert token.startswith('%d.%d.' % (email_id, link_index))
    email, link, sig = tt.parse_token(token)
    assert (email, link) == (email_id, link_index) and len(sig) == 22
    assert tt.verify(SECRET, token, NONCE, kind)


def test_link_index_defaults_to_zero():
    assert tt.make_token(SECRET, 5, NONCE, 'o') == tt.make_token(SECRET, 5, NONCE, 'o', 0)


def test_signature_is_the_documented_hmac():
    import base64
    import hashlib
    import hmac
    digest = hmac.new(b'k', b'c|12|3|n0nce', hashlib.sha256).digest()[:16]
    sig = base64.urlsafe_b64encode(digest).rstrip(b'=').decode()
    assert tt.make_token('k', 12, 'n0nce', 'c', 3) == '12.3.' + sig


def test_signature_case_matters():
    assert SIG.swapcase() != SIG


def test_tokens_are_url_safe_and_differ_per_link():
    tokens = {tt.make_token(SECRET, 9, tt.new_nonce(), kind, i) for kind in 'oc' for i in range(200)}
    assert len(tokens) == 400
    assert all(URL_SAFE.fullmatch(t) for t in tokens)


TOKEN = tt.make_token(SECRET, 12, NONCE, 'c', 3)
EMAIL, LINK, SIG = tt.parse_token(TOKEN)
OTHER_NONCE = 'Zz3Xv0kR1b2YtZ1d9Lm4Pq'


def _flip(sig):
    return ('B' if sig[0] == 'A' else 'A') + sig[1:]


REFUSED = [
    # (what was tampered with, secret, token, nonce, kind)
    ('forged signature', SECRET, '12.3.' + 'A' * 22, NONCE, 'c'),
    ('one character of the signature changed', SECRET, '12.3.' + _flip(SIG), NONCE, 'c'),
    ('click token used on the open route', SECRET, TOKEN, NONCE, 'o'),
    ('open token used on the click route', SECRET, tt.make_token(SECRET, 12, NONCE, 'o', 3), NONCE, 'c'),
    ('another email id, same signature', SECRET, '13.3.' + SIG, NONCE, 'c'),
    ('another link index, same signature', SECRET, '12.4.' + SIG, NONCE, 'c'),
    ("another email's nonce", SECRET, TOKEN, OTHER_NONCE, 'c'),
    ('another secret', 'other-secret', TOKEN, NONCE, 'c'),
    ('empty secret', '', TOKEN, NONCE, 'c'),
    ('no secret', None, TOKEN, NONCE, 'c'),
    ('empty nonce (not stored)', SECRET, TOKEN, '', 'c'),
    ('no nonce', SECRET, TOKEN, None, 'c'),
    ('unknown kind', SECRET, TOKEN, NONCE, 'x'),
    ('kind spelled out', SECRET, TOKEN, NONCE, 'click'),
    ('signature truncated', SECRET, TOKEN[:-1], NONCE, 'c'),
    ('signature extended', SECRET, TOKEN + 'A', NONCE, 'c'),
    ('signature with its case swapped', SECRET, '12.3.' + SIG.swapcase(), NONCE, 'c'),
    ('lone surrogate in the nonce', SECRET, TOKEN, '\ud800', 'c'),
    ('not a token', SECRET, 'garbage', NONCE, 'c'),
    ('token is None', SECRET, None, NONCE, 'c'),
]


@pytest.mark.parametrize('case, secret, token, nonce, kind', REFUSED, ids=ids(REFUSED))
def test_refused(case, secret, token, nonce, kind):
    assert tt.verify(secret, token, nonce, kind) is False


MALFORMED = [
    # (what is wrong, token)
    ('empty', ''),
    ('one part', '1'),
    ('two parts', '1.0'),
    ('empty signature', '1.0.'),
    ('four parts', '1.0.%s.x' % SIG),
    ('letters for numbers', 'a.b.c'),
    ('letters for the email id', 'a.0.' + SIG),
    ('negative email id', '-1.0.x'),
    ('negative email id, full signature', '-1.0.' + SIG),
    ('negative link index', '1.-1.' + SIG),
    ('plus sign', '+1.0.' + SIG),
    ('leading zero', '01.0.' + SIG),
    ('huge email id', '99999999999.0.x'),
    ('huge email id, full signature', '99999999999.0.' + SIG),
    ('email id 2**31', '2147483648.0.' + SIG),
    ('link index 2**31', '1.2147483648.' + SIG),
    ('thousands of digits', '9' * 5000 + '.0.' + SIG),
    ('short signature', '1.0.x'),
    ('over-long signature', '1.0.' + SIG + SIG),
    ('base64 padding', '1.0.' + SIG[:21] + '='),
    ('standard base64 characters', '1.0.' + SIG[:20] + '+/'),
    ('spaces around', ' 1.0.%s ' % SIG),
    ('trailing newline', '1.0.%s\n' % SIG),
    ('space inside', '1 .0.' + SIG),
    ('Arabic-Indic digits', '\u0661.0.' + SIG),
    ('full-width digits', '\uff11.0.' + SIG),
    ('unicode in the signature', '1.0.' + SIG[:21] + 'é'),
    ('emoji', '1.0.🙂'),
    ('empty parts', '..'),
    ('decimal point in a number', '1.5.0.' + SIG),
    ('not a string: bytes', b'1.0.' + SIG.encode()),
    ('not a string: int', 12),
    ('not a string: None', None),
]


@pytest.mark.parametrize('case, token', MALFORMED, ids=ids(MALFORMED))
def test_malformed(case, token):
    assert tt.parse_token(token) is None
    assert tt.verify(SECRET, token, NONCE, 'c') is False


def test_largest_ids_parse():
    assert tt.parse_token('2147483647.2147483647.' + SIG) == (2 ** 31 - 1, 2 ** 31 - 1, SIG)


@pytest.mark.parametrize('args', [
    (SECRET, 1, NONCE, 'x', 0),
    (SECRET, -1, NONCE, 'o', 0),
    (SECRET, 1, NONCE, 'o', -1),
    (SECRET, 2 ** 31, NONCE, 'o', 0),
    (SECRET, '1', NONCE, 'o', 0),
    (SECRET, True, NONCE, 'o', 0),
    ('', 1, NONCE, 'o', 0),
    (SECRET, 1, '', 'o', 0),
], ids=['kind', 'negative id', 'negative index', 'id too large', 'id as text', 'id as bool',
        'no secret', 'no nonce'])
def test_make_token_refuses_what_could_never_verify(args):
    with pytest.raises(ValueError):
        tt.make_token(*args)
