"""Signed tokens for the open pixel and the click redirect of a sent email.

A token reads ``<email_id>.<link_index>.<sig>``. The signature is the first
16 bytes of HMAC-SHA256 over ``kind|email_id|link_index|nonce`` with the
database's secret as key, in URL-safe base64 without padding (22 characters).
The nonce is random and stored with the sent email, so a token cannot be
guessed from the email id, and a leaked secret alone does not let anyone
forge tokens for emails whose nonce they don't know.

The kind ('o' open, 'c' click) is signed but not written in the token: the
route that receives it fixes it, so an open token used on the click route
does not verify. Everything in a token is URL-safe: digits, dots, and the
base64url alphabet.

``parse_token`` and ``verify`` read text from the internet: they return
None/False for anything unexpected and never raise.
"""
import base64
import hashlib
import hmac
import re
import secrets

OPEN, CLICK = 'o', 'c'
KINDS = (OPEN, CLICK)

# Ids are Postgres integers: a larger number cannot name a record.
MAX_ID = 2 ** 31 - 1
_SIG_BYTES = 16
_SIG_LENGTH = 22  # 16 bytes in base64 without padding
# Canonical decimal numbers only (no sign, no leading zeros, ASCII digits), at
# most 10 digits so int() never sees a huge string; the signature has exactly
# the length we write.
_TOKEN = re.compile(r'(0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})\.([A-Za-z0-9_-]{%d})' % _SIG_LENGTH)
# Longer than any token we write: refused before the regular expression runs.
_MAX_TOKEN_LENGTH = 10 + 1 + 10 + 1 + _SIG_LENGTH


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode('ascii')


def new_nonce() -> str:
    """16 random bytes, URL-safe base64 without padding: stored with each sent email."""
    return _b64(secrets.token_bytes(16))


def _signature(secret: str, email_id: int, nonce: str, kind: str, link_index: int) -> str:
    message = '%s|%d|%d|%s' % (kind, email_id, link_index, nonce)
    digest = hmac.new(secret.encode('utf-8'), message.encode('utf-8'), hashlib.sha256).digest()
    return _b64(digest[:_SIG_BYTES])


def make_token(secret: str, email_id: int, nonce: str, kind: str, link_index: int = 0) -> str:
    """The token for one email's open pixel (kind 'o') or one of its links (kind 'c')."""
    if kind not in KINDS:
        raise ValueError('kind must be %r or %r, not %r' % (OPEN, CLICK, kind))
    if not secret or not nonce:
        raise ValueError('a token needs a secret and a nonce')
    for name, value in (('email_id', email_id), ('link_index', link_index)):
        # bool is an int, but True as an id is a bug in the caller.
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise ValueError('%s must be an integer from 0 to %d, not %r' % (name, MAX_ID, value))
    return '%d.%d.%s' % (email_id, link_index, _signature(secret, email_id, nonce, kind, link_index))


def parse_token(token: str) -> tuple[int, int, str] | None:
    """(email_id, link_index, sig) of a well-formed token, None for anything else."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
        return None
    match = _TOKEN.fullmatch(token)
    if not match:
        return None
    email_id, link_index = int(match.group(1)), int(match.group(2))
    if email_id > MAX_ID or link_index > MAX_ID:
        return None
    return email_id, link_index, match.group(3)


def verify(secret: str, token: str, nonce: str, kind: str) -> bool:
    """Whether ``token`` was made with this secret, nonce and kind."""
    if not isinstance(secret, str) or not isinstance(nonce, str) or not secret or not nonce:
        return False
    if kind not in KINDS:
        return False
    parsed = parse_token(token)
    if parsed is None:
        return False
    email_id, link_index, sig = parsed
    try:
        expected = _signature(secret, email_id, nonce, kind, link_index)
    except UnicodeEncodeError:  # a lone surrogate in a stored nonce or secret: nothing verifies
        return False
    # Constant time: the time taken does not tell how many characters were right.
    return hmac.compare_digest(expected, sig)
