"""Text the database always accepts, and keys an index always holds.

Mail comes from everyone, and PostgreSQL refuses some of what Python strings
can hold: a lone surrogate (what a broken or hostile charset decodes to)
cannot be encoded, a NUL cannot be stored in text, and a btree index entry
cannot exceed about 2,700 bytes. One message carrying any of these used to
fail its whole batch. Every string the CRM stores from a mail goes through
``safe_text``; every value an index holds (Message-IDs, thread keys,
addresses, subject keys) through ``bounded``.

- ``safe_text``: lone surrogates (and the non-characters U+FFFE, U+FFFF)
  replaced by U+FFFD, NULs and the other C0 controls but tab and line
  breaks removed (as the parser always did for NUL: noise, never meaning).
  XML 1.0 cannot carry those controls, so a contact or subject holding one
  broke every XML-RPC answer that included it.
- ``mail_codec``: the Python codec for a charset label, only when the label
  names a real character set of mail (IANA charsets Python decodes): never
  ``unicode_escape``, ``raw_unicode_escape``, ``punycode``, ``idna``,
  ``rot13``, ``base64`` and other codecs that are no charset.
- ``bounded``: short values unchanged, long ones cut with a hash of the whole
  value appended, so two long values that share their start stay apart.
- ``safe_mimetype``: a ``type/subtype`` of token characters, or
  ``application/octet-stream``.
- ``without_bidi_controls``: names and file names without the characters
  that reorder what is shown ("invoice\\u202efdp.exe" shows as
  "invoiceexe.pdf").
"""
import codecs
import hashlib
import re

REPLACEMENT = '\ufffd'
KEY_LIMIT = 255          # characters of an indexed key (Message-ID, thread key, address)
SUBJECT_KEY_LIMIT = 200  # characters of a subject key
NAME_LIMIT = 128         # characters of a contact name made from a display name

_UNSTORABLE = re.compile('[\ud800-\udfff\ufffe\uffff]')
_CONTROLS = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f]')


def safe_text(value):
    """``value`` with lone surrogates and non-characters replaced and C0
    controls but tab, CR and LF removed; None and False pass."""
    if not value or not isinstance(value, str):
        return value
    if _CONTROLS.search(value):
        value = _CONTROLS.sub('', value)
    if value.isascii():
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def bounded(value, limit=KEY_LIMIT):
    """``value`` if it has at most ``limit`` characters, else its first
    characters followed by '~' and 16 hex digits of its SHA-256."""
    if not value or len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:16]
    return value[:max(limit - 17, 0)] + '~' + digest


# The character sets mail uses, as Python names its codecs (with '_' for '-').
_MAIL_CODEC = re.compile(r"""^(?:
    ascii | latin_1 | iso8859_\d+ | cp\d+ | utf_8 | utf_8_sig | utf_7
  | utf_16(?:_[lb]e)? | utf_32(?:_[lb]e)?
  | koi8_[rtu] | kz1048 | ptcp154 | tis_620 | mac_[a-z]+ | hp_roman8
  | euc_jp | euc_jis_2004 | euc_jisx0213 | euc_kr | shift_jis(?:_2004|x0213)?
  | iso2022_(?:jp(?:_[123]|_2004|_3|_ext)?|kr) | johab
  | gb2312 | gbk | gb18030 | hz | big5 | big5hkscs
)$""", re.VERBOSE)


def mail_codec(label):
    """The Python codec name for a charset label of a mail, or None when the
    label is unknown or names something that is not a character set."""
    if not label or not isinstance(label, str):
        return None
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None
    if not _MAIL_CODEC.match(name.replace('-', '_')):
        return None
    return name


_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_MIMETYPE = re.compile(r'^%s/%s$' % (_TOKEN, _TOKEN))
OCTET_STREAM = 'application/octet-stream'


def safe_mimetype(value):
    """A content type fit to store and serve: ``type/subtype`` in lower case
    without parameters, or application/octet-stream."""
    value = (value or '').split(';', 1)[0].strip().lower()
    return value if value.isascii() and _MIMETYPE.match(value) else OCTET_STREAM


# LRM, RLM, ALM, the embeddings and overrides (LRE..RLO), the isolates (LRI..PDI).
_BIDI_CONTROLS = re.compile('[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]')


def without_bidi_controls(value):
    """``value`` without the invisible characters that reorder text."""
    if not value or value.isascii():
        return value
    return _BIDI_CONTROLS.sub('', value)
