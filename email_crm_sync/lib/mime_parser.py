"""Read one raw mail (the bytes IMAP returns) into the plain values the CRM stores.

``parse_message(raw)`` never raises: mail comes from everyone, and one broken
message must not stop the sync of a mailbox. Whatever can be read is returned;
what could not be read is said in ``parse_error`` in plain words.

What the CRM gets:

- Addresses lower-cased, names decoded (RFC 2047 encoded words, raw UTF-8 as
  RFC 6532 allows, Latin-1 bytes from old mailers), groups flattened, entries
  without an ``@`` dropped.
- Message-IDs without ``<>``. A message without one gets a stable synthetic
  id from the hash of its bytes, so the same mail fetched twice (or found in
  two folders) is still recognised.
- Dates in naive UTC, including obsolete zone names and two-digit years.
- The plain-text and the HTML body as the sender wrote them (the HTML is not
  sanitised here: Odoo does that when it stores it), decoded with the
  declared charset and sensible fallbacks when the label is wrong or unknown.
- Attachments with a decoded file name (RFC 2231 and RFC 2047) or a
  generated one ("attachment-2.pdf"); invitations (text/calendar) and
  forwarded mail (message/rfc822, as .eml) are attachments too. Files over
  the size limit keep their name and size but not their content.

The MIME structure is split by the standard library (``email.policy.default``
settings), but headers are handed over as raw text and decoded here: that is
more lenient with the mail that is really out there, and about five times
faster than building the default policy's header objects.
"""
from __future__ import annotations

import binascii
import codecs
import dataclasses
import datetime
import hashlib
import html
import io
import mimetypes
import re
import urllib.parse
from email import errors as email_errors
from email import policy as email_policy
from email import utils as email_utils
from email.generator import BytesGenerator
from email.parser import BytesParser

from . import address_list, address_rules, safe_text

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
SYNTHETIC_ID_DOMAIN = 'email-crm-sync.invalid'
HEADERS_TEXT_LIMIT = 1024 * 1024     # bytes of the header block kept for display
MAX_DEPTH = 40                       # nesting of multiparts we follow
MAX_PROBLEMS = 4                     # reasons listed in parse_error
MAX_REFERENCES = 1000                # ids kept from a References header: the first and the latest
MAX_PARAM_HEADER = 8192              # longer Content-Type/-Disposition: parameters not read
MAX_HTML_DEPTH = 250                 # deeper HTML may lose its innermost parts when sanitised


# -- results --------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Address:
    name: str
    email: str


@dataclasses.dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes | None        # None when the file is over the size limit
    content_id: str | None
    is_inline: bool              # shown inside the HTML body (cid: reference)


@dataclasses.dataclass(frozen=True)
class ParsedMessage:
    message_id: str
    has_message_id: bool
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    subject: str = ''
    from_: tuple[Address, ...] = ()
    sender: Address | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    date: datetime.datetime | None = None
    text_body: str = ''
    html_body: str = ''
    attachments: tuple[Attachment, ...] = ()
    headers_text: str = ''
    parse_error: str | None = None
    content_hash: str = ''
    size: int = 0
    is_auto_generated: bool = False
    list_id: str = ''
    content_key: str = ''        # what the email says, whatever its transport headers (see content_key)


# -- entry point ------------------------------------------------------------------

def parse_message(raw: bytes, max_attachment_bytes: int = MAX_ATTACHMENT_BYTES) -> ParsedMessage:
    """Everything the CRM needs from one raw message. Never raises."""
    try:
        if isinstance(raw, str):   # a caller's mistake, but not worth losing the mail over
            raw = raw.encode('utf-8', 'surrogateescape')
        raw = bytes(raw or b'')
    except Exception:
        raw = b''
    content_hash = hashlib.sha256(raw).hexdigest()
    try:
        return _parse(raw, content_hash, max_attachment_bytes)
    except Exception as error:  # a bug or a pathological message: keep what the bytes say
        return _unparsed(raw, content_hash, 'the message could not be read (%s)'
                         % error.__class__.__name__)


def _parse(raw, content_hash, max_attachment_bytes):
    problems = []
    headers_text = _headers_text(raw)
    if not raw.strip():
        return _unparsed(raw, content_hash, 'the message is empty', headers_text)

    try:
        msg = BytesParser(policy=_POLICY).parsebytes(raw)
        structure_read = True
    except Exception:  # RecursionError on absurdly nested parts, or a bug
        msg = BytesParser(policy=_POLICY).parsebytes(raw, headersonly=True)
        structure_read = False
        problems.append('the parts of the message could not be read, only its headers')
    headers = {}
    for name, value in msg.items():
        headers.setdefault(name.strip().lower(), []).append(value)
    if not headers:
        problems.append('no mail headers were found')

    def first(name):
        values = headers.get(name)
        return values[0] if values else ''

    message_ids = _message_ids(first('message-id'), bare_ok=True)[:1]
    if message_ids:
        message_id, has_message_id = message_ids[0], True
    else:
        message_id, has_message_id = _synthetic_id(content_hash), False
    from_ = _addresses(headers.get('from'))

    texts, htmls, pending = [], [], []
    if structure_read:
        try:
            body = _Body(max_attachment_bytes, problems, crlf=b'\r\n' in raw)
            texts, htmls, pending = body.collect(msg)
        except Exception as error:  # a bug: the headers are still worth having
            problems.append('the body could not be read (%s)' % error.__class__.__name__)

    html_body = '\n'.join(htmls)
    if html_depth(html_body) > MAX_HTML_DEPTH:
        problems.append('the HTML body is nested more than %d levels deep: its innermost parts '
                        'may be missing from the formatted view' % MAX_HTML_DEPTH)
    date_text = first('date')
    date = parse_date(date_text)
    if date is None and date_text.strip():
        problems.append('the date could not be read; the server\'s arrival date is used')
    references = _message_ids(' '.join(headers.get('references', ())))
    if len(references) > MAX_REFERENCES:
        references = references[:1] + references[-(MAX_REFERENCES - 1):]
    parsed = ParsedMessage(
        message_id=message_id,
        has_message_id=has_message_id,
        in_reply_to=_message_ids(first('in-reply-to'))[:MAX_REFERENCES],
        references=references,
        subject=_fold_spaces(decode_header_text(first('subject'))),
        from_=from_,
        sender=from_[0] if from_ else None,
        to=_addresses(headers.get('to')),
        cc=_addresses(headers.get('cc')),
        bcc=_addresses(headers.get('bcc')),
        reply_to=_addresses(headers.get('reply-to')),
        date=date,
        text_body=_join_texts(texts),
        html_body=html_body,
        attachments=_finish_attachments(pending, htmls),
        headers_text=headers_text,
        parse_error=_summary(problems),
        content_hash=content_hash,
        size=len(raw),
        is_auto_generated=_is_auto_generated(headers),
        list_id=_list_id(first('list-id')),
    )
    return dataclasses.replace(parsed, content_key=content_key(parsed))


def _unparsed(raw, content_hash, reason, headers_text=None):
    """The message as far as its bytes go, when the MIME parse did not happen."""
    return ParsedMessage(
        message_id=_synthetic_id(content_hash),
        has_message_id=False,
        headers_text=_headers_text(raw) if headers_text is None else headers_text,
        parse_error=reason,
        content_hash=content_hash,
        size=len(raw),
        content_key=content_hash,
    )


def variant_message_id(parsed):
    """The id under which an email is stored when another email, with other
    content, holds its Message-ID already."""
    return safe_text.bounded('%s#%s' % (parsed.message_id, parsed.content_key[:16]))


def content_key(parsed):
    """A fingerprint of what an email says: sender, recipients, subject, date,
    text and attachments, but not its transport headers (Received, DKIM ...),
    its encoding nor its Bcc. Two copies of one email (the Sent copy and the
    one the CRM stored when sending it, the same mail in two folders) have the
    same key; a different email reusing its Message-ID has another."""
    digest = hashlib.sha256()
    body = parsed.text_body or parsed.html_body
    parts = [
        parsed.sender.email if parsed.sender else '',
        ' '.join(sorted({a.email for a in parsed.to + parsed.cc})),
        parsed.subject,
        parsed.date.isoformat() if parsed.date else '',
        ' '.join(body.split()),
    ] + ['%s:%d' % (a.filename, a.size) for a in parsed.attachments]
    for part in parts:
        digest.update(part.encode('utf-8', 'surrogatepass'))
        digest.update(b'\x00')
    return digest.hexdigest()


def _synthetic_id(content_hash):
    return 'synthetic-%s@%s' % (content_hash[:32], SYNTHETIC_ID_DOMAIN)


def _summary(problems):
    unique = list(dict.fromkeys(problems))
    if not unique:
        return None
    text = '; '.join(unique[:MAX_PROBLEMS])
    if len(unique) > MAX_PROBLEMS:
        text += '; and %d more problems' % (len(unique) - MAX_PROBLEMS)
    return text


# -- the standard library's parser, with headers as raw text ---------------------

_LINE_BREAKS = re.compile(r'[\r\n]+')


class _RawHeaderPolicy(email_policy.EmailPolicy):
    """``email.policy.default``, except that a header is fetched as its raw,
    unfolded text (8-bit bytes as surrogate escapes), as ``compat32`` does:
    this module decodes headers itself, and the parameter methods
    (``get_param``, ``get_params``) work on that text."""

    def header_fetch_parse(self, name, value):
        if '\n' in value or '\r' in value:
            value = _LINE_BREAKS.sub('', value)
        return value


# refold_source='none': a forwarded message written back out as .eml keeps its
# header lines as they were.
_POLICY = _RawHeaderPolicy(refold_source='none')
_POLICY_CRLF = _POLICY.clone(linesep='\r\n')


# -- charsets ---------------------------------------------------------------------

_FALLBACK_ERRORS = 'email_crm_sync.cp1252'
# Each byte as Windows-1252 reads it; the five bytes it leaves undefined as Latin-1.
_BYTE_CHARS = tuple(bytes([b]).decode('cp1252', 'ignore') or chr(b) for b in range(256))


def _cp1252_fallback(error):
    chunk = error.object[error.start:error.end]
    return ''.join(_BYTE_CHARS[b] for b in chunk), error.end


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)

# Labels Python does not know, or knows under another name.
_CHARSET_LABELS = {
    'x-sjis': 'cp932', 'sjis': 'cp932', 'windows-31j': 'cp932', 'x-euc-jp': 'euc_jp',
    'x-gbk': 'gbk', 'x-mac-roman': 'mac-roman', 'iso-8859-8-i': 'iso8859-8',
    'iso-8859-6-i': 'iso8859-6', 'x-cp1250': 'cp1250', 'x-cp1251': 'cp1251',
    'x-cp1252': 'cp1252', 'x-windows-949': 'cp949', 'ks_c_5601-1987': 'cp949',
}
# Charsets mailers announce while writing their bigger Windows/Microsoft cousin.
_WIDER_CHARSET = {
    'iso8859-1': 'cp1252', 'gb2312': 'gb18030', 'gbk': 'gb18030', 'euc_kr': 'cp949',
    'shift_jis': 'cp932', 'iso2022_jp': 'iso2022_jp_ext', 'big5': 'big5hkscs',
    'iso8859-9': 'cp1254', 'tis-620': 'cp874', 'iso8859-11': 'cp874',
}
# Labels whose text is tried as UTF-8 first: mislabelled UTF-8 is common there,
# and real Latin-1 text almost never forms valid UTF-8 sequences.
_UTF8_FIRST = frozenset([None, 'ascii', 'utf-8', 'cp1252'])
_codec_cache = {}


def _codec(label):
    """Python codec name for a charset label from a mail, or None if unknown."""
    if not label:
        return None
    try:
        return _codec_cache[label]
    except KeyError:
        pass
    name = label.strip().strip('"\'').strip().lower()
    name = _CHARSET_LABELS.get(name, name)
    # Only real character sets: a label such as unicode_escape or punycode
    # names a Python codec that turns text into lone surrogates or raises.
    codec = safe_text.mail_codec(name)
    if codec:
        codec = _WIDER_CHARSET.get(codec, codec)
    if len(_codec_cache) < 1000:
        _codec_cache[label] = codec
    return codec


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of data in the declared charset, falling back instead of failing.

    Unknown labels and US-ASCII/Latin-1/Windows-1252 labels read as UTF-8 when
    the bytes are valid UTF-8, else byte by byte as Windows-1252; other
    charsets that do not fit the bytes are tried as UTF-8, then read with the
    broken bytes replaced.
    """
    if not data:
        return ''
    return safe_text.safe_text(_decode(data, _codec(charset)))


# Without a byte order mark, UTF-16 and UTF-32 are big-endian (RFC 2781 4.3);
# Python would read them in the machine's order.
_BOM_LESS = {'utf-16': ('utf-16-be', (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)),
             'utf-32': ('utf-32-be', (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE))}


def _little_endian_evidently(data, codec):
    """'utf-16-le' (or -32-) when BOM-less text plainly is little-endian (Latin
    text has its zero bytes after each character there), else None: RFC 2781
    makes big-endian the rule, not a reason to show garbage."""
    width = 2 if codec == 'utf-16' else 4
    sample = data[:4000]
    first = sample[0::width].count(0)
    last = sample[width - 1::width].count(0)
    if last > 2 * first and last * width >= len(sample) // 2:
        return codec + '-le'
    return None


def _decode(data, codec):
    if codec in _UTF8_FIRST:
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            if codec == 'cp1252':
                return data.decode('cp1252', _FALLBACK_ERRORS)
            return data.decode('utf-8', _FALLBACK_ERRORS)
    if codec in _BOM_LESS:
        big_endian, boms = _BOM_LESS[codec]
        if not data.startswith(boms):
            codec = _little_endian_evidently(data, codec) or big_endian
    try:
        return data.decode(codec)
    except UnicodeError:
        pass
    if codec.startswith('iso2022'):
        # 7-bit text: UTF-8 would "succeed" and show the escape codes. Read
        # what the broken sequences leave readable instead.
        return data.decode(codec, 'replace')
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(codec, 'replace')
    except Exception:   # a codec that fails even with errors replaced
        return data.decode('utf-8', _FALLBACK_ERRORS)


def _fix_8bit(text):
    """Header text with raw 8-bit bytes (surrogate escapes) read as UTF-8,
    stray bytes as Windows-1252."""
    if text.isascii():
        return text
    try:
        data = text.encode('utf-8', 'surrogateescape')
    except UnicodeEncodeError:
        data = text.encode('utf-8', 'replace')
    return data.decode('utf-8', _FALLBACK_ERRORS)


# -- header text ------------------------------------------------------------------

_ENCODED_WORD = re.compile(r'=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=')


def decode_header_text(value: str) -> str:
    """A header value with RFC 2047 encoded words and raw 8-bit text decoded.

    Lenient like the mailers people use: encoded words inside quotes or words
    are decoded too, the blank between two encoded words is dropped, and a
    character split across two words of the same charset is put back together.
    """
    if not value:
        return ''
    if '=?' not in value:
        return safe_text.safe_text(_strip_nul(_fix_8bit(value)))
    chunks = []          # [charset or None, bytes or str]
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[position:match.start()]
        previous_is_word = bool(chunks) and chunks[-1][0] is not None
        if gap and not (previous_is_word and gap.isspace()):
            chunks.append([None, gap])
            previous_is_word = False
        charset = match.group(1).split('*', 1)[0].lower()
        data = _decode_word(match.group(2), match.group(3))
        if previous_is_word and chunks[-1][0] == charset:
            chunks[-1][1] += data
        else:
            chunks.append([charset, data])
        position = match.end()
    if position < len(value):
        chunks.append([None, value[position:]])
    return safe_text.safe_text(_strip_nul(''.join(
        _fix_8bit(data) if charset is None else decode_bytes(data, charset)
        for charset, data in chunks)))


def _decode_word(encoding, text):
    data = text.encode('utf-8', 'surrogateescape')
    if encoding in 'qQ':
        return binascii.a2b_qp(data, header=True)
    return _decode_base64(data)[0]


def _fold_spaces(text):
    return ' '.join(text.split())


def _strip_nul(text):
    # PostgreSQL text cannot hold NUL characters.
    return text.replace('\x00', '') if '\x00' in text else text


def _headers_text(raw):
    """The header block as text, for display and for messages that failed."""
    if raw.startswith(b'\r\n') or raw.startswith(b'\n'):
        block = b''
    else:
        end = raw.find(b'\n\r\n')
        lf_end = raw.find(b'\n\n', 0, end if end >= 0 else len(raw))
        end = lf_end if lf_end >= 0 else end
        block = raw[:end + 1] if end >= 0 else raw
    block = block[:HEADERS_TEXT_LIMIT]
    text = block.decode('utf-8', _FALLBACK_ERRORS).replace('\r\n', '\n')
    return _strip_nul(text)


# -- addresses --------------------------------------------------------------------

def _split_addresses(value):
    """(name, address) pairs of an address list, names still encoded."""
    return address_list.split_addresses(value.strip())


def _addresses(values):
    """Addresses of a To/Cc/From... header (all its occurrences), in order,
    each e-mail once."""
    if not values:
        return ()
    pairs = _split_addresses(', '.join(values))
    found = {}
    carried = ''
    for index, (name, addr) in enumerate(pairs):
        if carried:
            name, carried = (carried + ', ' + name) if name else name, ''
        email = _normalise_email(addr)
        if email is None:
            # 'Doe, John <jd@x.com>' without quotes: 'Doe' and 'John <jd@...>'.
            following = pairs[index + 1] if index + 1 < len(pairs) else None
            if addr and not name and following and following[0] and '@' in following[1]:
                carried = addr
            continue
        name = _clean_name(decode_header_text(name)) if name else ''
        known = found.get(email)
        if known is None or (name and not known.name):
            found[email] = Address(name, email)
    return tuple(found.values())


def _clean_name(name):
    name = _fold_spaces(safe_text.without_bidi_controls(name))
    while len(name) >= 2 and name[0] == name[-1] and name[0] in '"\'':
        name = name[1:-1].strip()
    return name.strip('"').strip()


def _normalise_email(addr):
    return safe_text.safe_text(address_rules.addr_spec(_strip_nul(_fix_8bit(addr)))) or None


# -- message ids ------------------------------------------------------------------

_BRACKETED_ID = re.compile(r'<([^<>]*)>')
_ID_SEPARATORS = re.compile(r'[\s<>,;()"\']+')
_COMMENT = re.compile(r'\([^()]*\)')


def _message_ids(value, bare_ok=False):
    """Ids of a Message-ID/In-Reply-To/References value: without <>, in order,
    once each. Bracketed ids win; without any, bare ones with an @ (or for
    Message-ID, the first word)."""
    if not value:
        return ()
    value = _COMMENT.sub(' ', safe_text.safe_text(_strip_nul(_fix_8bit(value))))
    ids = [''.join(found.split()) for found in _BRACKETED_ID.findall(value)]
    ids = [i for i in ids if i]
    if not ids:
        # Split first: a pattern looking for "x@y" anywhere takes quadratic time
        # on a long run of characters without an @.
        ids = [word for word in _ID_SEPARATORS.split(value) if '@' in word.strip('@')]
        if not ids and bare_ok:
            ids = [word.strip('<>') for word in value.split()[:1]]
            ids = [i for i in ids if i]
    # Indexed (unique per mailbox, thread keys): absurdly long ids are cut,
    # with a hash of the whole id so that two of them never collide.
    return tuple(dict.fromkeys(safe_text.bounded(i) for i in ids))


# -- dates --------------------------------------------------------------------------

# Zone names the standard library does not know (it knows UT, UTC, GMT, Z and
# the US zones EST, EDT, CST, CDT, MST, MDT, PST, PDT, AST, ADT).
_ZONES = {
    'CET': '+0100', 'CEST': '+0200', 'MET': '+0100', 'MEST': '+0200', 'MEZ': '+0100',
    'MESZ': '+0200', 'WET': '+0000', 'WEST': '+0100', 'BST': '+0100', 'IST': '+0530',
    'EET': '+0200', 'EEST': '+0300', 'MSK': '+0300', 'JST': '+0900', 'KST': '+0900',
    'HKT': '+0800', 'SGT': '+0800', 'AWST': '+0800', 'ACST': '+0930', 'AEST': '+1000',
    'AEDT': '+1100', 'NZST': '+1200', 'NZDT': '+1300', 'HST': '-1000', 'AKST': '-0900',
    'AKDT': '-0800', 'NST': '-0330', 'NDT': '-0230', 'SAST': '+0200', 'CAT': '+0200',
    'EAT': '+0300', 'WAT': '+0100', 'ICT': '+0700', 'WIB': '+0700', 'PHT': '+0800',
    'BRT': '-0300', 'ART': '-0300',
}
_YEARS = (1900, 9998)
_ISO_DATE = re.compile(r'\d{4}-\d\d-\d\d')
# The year as written after "1 Jan": the standard library reads 0, 00, 0000
# and -1 alike as 2000.
_WRITTEN_YEAR = re.compile(r'\d\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?'
                           r'\s*(-?\d+)', re.IGNORECASE)
MAX_DATE_TEXT = 200


def parse_date(value: str) -> datetime.datetime | None:
    """A Date header as naive UTC; None when it cannot be read.

    Without a zone the time is taken as UTC; an impossible offset is ignored.
    """
    if not value:
        return None
    try:
        value = _COMMENT.sub(' ', _fix_8bit(value[:MAX_DATE_TEXT])).strip()
        written = _WRITTEN_YEAR.search(value)
        if written and not _possible_year(written.group(1)):
            return None
        words = value.split()
        if words and words[-1].upper() in _ZONES:
            words[-1] = _ZONES[words[-1].upper()]
            value = ' '.join(words)
        parts = email_utils.parsedate_tz(value)
        if parts is None:
            return _iso_date(value)
        year, month, day, hour, minute, second = parts[:6]
        offset = parts[9] or 0
        if abs(offset) >= 24 * 3600:
            offset = 0
        if not _YEARS[0] <= year <= _YEARS[1]:
            return None
        moment = datetime.datetime(year, month, day, hour, minute, min(second, 59))
        return moment - datetime.timedelta(seconds=offset)
    except Exception:   # out-of-range fields (day 32, hour 25 ...) and worse
        return None


def _possible_year(text):
    """RFC 5322: four digits, or two (and three) of the obsolete syntax."""
    if text.startswith('-') or len(text) == 1:
        return False
    return len(text) < 4 or _YEARS[0] <= int(text) <= _YEARS[1]


def _iso_date(value):
    """'2020-02-03 10:00:00+02:00', written by some scripts."""
    if not _ISO_DATE.match(value):
        return None
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


# -- list and robot mail -------------------------------------------------------------

def _is_auto_generated(headers):
    auto = (headers.get('auto-submitted') or [''])[0].split(';', 1)[0].strip().lower()
    if auto and auto != 'no':
        return True
    precedence = (headers.get('precedence') or [''])[0].strip().lower()
    return precedence in ('bulk', 'list', 'junk') or 'list-unsubscribe' in headers


def _list_id(value):
    value = _fix_8bit(value or '')
    found = _BRACKETED_ID.findall(value)
    return _strip_nul((found[-1] if found else value).strip().lower())


# -- bodies and attachments -----------------------------------------------------------

_B64_ALPHABET = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
_WHITESPACE = b' \t\r\n\x0b\x0c'
_NOT_B64 = bytes(b for b in range(256) if b not in _B64_ALPHABET)
_QP_BROKEN = re.compile(rb'=(?![0-9A-Fa-f]{2}|[ \t]*\r?\n|[ \t]*$)')
_BODY_TYPES = ('text/plain', 'text/html')
_UNSPLIT_DEFECTS = (email_errors.StartBoundaryNotFoundDefect,
                    email_errors.NoBoundaryInMultipartDefect)


def _decode_base64(data):
    """(bytes, problem or None): what can be decoded from base64 data."""
    compact = data.translate(None, _WHITESPACE)
    try:
        return binascii.a2b_base64(compact, strict_mode=True), None
    except binascii.Error:
        pass
    problem = None
    # '=' inside the data: padding between pieces some mailers glue together.
    pieces = [piece.translate(None, _NOT_B64) for piece in compact.split(b'=')]
    if sum(map(len, pieces)) + compact.count(b'=') != len(compact):
        problem = 'characters that are not base64'
    decoded = []
    for piece in pieces:
        if len(piece) % 4 == 1:
            piece = piece[:-1]
            problem = problem or 'cut-off base64 data'
        if piece:
            decoded.append(binascii.a2b_base64(piece + b'=' * (-len(piece) % 4)))
    return b''.join(decoded), problem


def _cte(part):
    value = part.get('content-transfer-encoding') or ''
    return value.strip().strip('"\'').strip().lower()


def _encoded_payload(part):
    """The still-encoded payload (base64 or quoted-printable text) as bytes.

    Read from ``_payload`` as the standard library's own generator does:
    ``get_payload()`` would decode stray 8-bit bytes with the part's charset
    first (and fail on a garbled charset name)."""
    payload = getattr(part, '_payload', None)
    if payload is None:
        payload = part.get_payload()
    if isinstance(payload, bytes):
        return payload
    if not isinstance(payload, str):
        return b''
    if payload.isascii():
        return payload.encode('ascii')
    return payload.encode('utf-8', 'surrogateescape')


class _Pending:
    """An attachment before its final name and inline flag are known."""
    __slots__ = ('filename', 'content_type', 'size', 'content', 'content_id', 'stem')

    def __init__(self, filename, content_type, size, content, content_id, stem=None):
        self.filename, self.content_type, self.size = filename, content_type, size
        self.content, self.content_id, self.stem = content, content_id, stem


class _Body:
    """Walks the MIME tree once, collecting body texts, HTML and attachments."""

    def __init__(self, max_attachment_bytes, problems, crlf):
        self.max_bytes = max_attachment_bytes
        self.problems = problems
        self.crlf = crlf

    def collect(self, msg):
        if any(isinstance(d, email_errors.MissingHeaderBodySeparatorDefect) for d in msg.defects) \
                and len(msg):
            self.problems.append('a header line could not be read; what followed it was '
                                 'taken as the body')
        return self._walk(msg, 0)

    def _walk(self, part, depth):
        """(texts, htmls, attachments) of a part and what it contains."""
        # 8-bit or NUL bytes in a Content-Type must not reach ir.attachment.mimetype.
        ctype = safe_text.safe_mimetype(part.get_content_type())
        if part.is_multipart() and not ctype.startswith('multipart/'):
            # message/rfc822 (and its cousins): the parser made it a message of its own.
            return [], [], [self._forwarded(part, ctype)]
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                self.problems.append('parts nested too deeply were skipped')
                return [], [], []
            children = part.get_payload()
            if ctype == 'multipart/alternative':
                return self._alternative(children, depth)
            if ctype == 'multipart/related':
                children = self._root_first(part, children)
            return self._mixed(children, depth)
        if ctype.startswith('multipart/'):
            if any(isinstance(d, _UNSPLIT_DEFECTS) for d in part.defects):
                self.problems.append('the parts of the message could not be separated '
                                     '(its MIME boundary is missing)')
            return [self._text(part, 'text/plain')], [], []
        filename = self._filename(part)
        if ctype in _BODY_TYPES and not filename and _disposition(part) != 'attachment':
            text = self._text(part, ctype)
            return ([text], [], []) if ctype == 'text/plain' else ([], [text], [])
        return [], [], [self._attachment(part, ctype, filename)]

    def _mixed(self, children, depth):
        texts, htmls, attachments, sections = [], [], [], []
        for child in children:
            found = self._walk(child, depth + 1)
            texts.extend(found[0])
            htmls.extend(found[1])
            attachments.extend(found[2])
            sections.append(found)
        if htmls and any(any(t) and not h for t, h, _ in sections):
            # Text parts next to HTML ones (a list footer under an HTML mail):
            # shown in the HTML too, so that nothing is lost there.
            htmls = []
            for t, h, _ in sections:
                htmls.extend(h or [_text_as_html(text) for text in t if text])
        return texts, htmls, attachments

    def _alternative(self, children, depth):
        """The richest text and HTML alternatives (the last ones, RFC 2046);
        files beside them (an invitation's text/calendar) are kept."""
        results = [self._walk(child, depth + 1) for child in children]
        text_choice = html_choice = None
        for index, (texts, htmls, _attachments) in enumerate(results):
            if any(texts):
                text_choice = index
            if any(htmls):
                html_choice = index
        texts = results[text_choice][0] if text_choice is not None else []
        htmls = results[html_choice][1] if html_choice is not None else []
        attachments = []
        for index, (t, h, files) in enumerate(results):
            if index in (text_choice, html_choice) or not (t or h):
                attachments.extend(files)
        return texts, htmls, attachments

    @staticmethod
    def _root_first(part, children):
        if len(part.get('content-type') or '') > MAX_PARAM_HEADER:
            return children
        start = (part.get_param('start') or '').strip().strip('<>').strip()
        if start:
            for index, child in enumerate(children):
                if (child.get('content-id') or '').strip().strip('<>').strip() == start:
                    return [child] + children[:index] + children[index + 1:]
        return children

    def _bytes(self, part, what):
        cte = _cte(part)
        if cte == 'base64':
            data, problem = _decode_base64(_encoded_payload(part))
            if problem:
                self.problems.append('%s has broken base64 encoding (%s); what could be decoded '
                                     'was kept' % (what, problem))
            return data
        if cte == 'quoted-printable':
            encoded = _encoded_payload(part)
            if _QP_BROKEN.search(encoded):
                self.problems.append('%s has broken quoted-printable encoding; the broken '
                                     'sequences were kept as they were' % what)
            return binascii.a2b_qp(encoded)
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b''

    def _text(self, part, ctype):
        data = self._bytes(part, 'the HTML body' if ctype == 'text/html' else 'the text body')
        text = decode_bytes(data, _charset(part))
        if '\r' in text:
            text = text.replace('\r\n', '\n')
        return _strip_nul(text)

    def _filename(self, part):
        if 'name' not in (part.get('content-disposition') or '').lower() \
                and 'name' not in (part.get('content-type') or '').lower():
            return None
        for header in ('content-disposition', 'content-type'):
            key = 'filename' if header == 'content-disposition' else 'name'
            if len(part.get(header) or '') > MAX_PARAM_HEADER:
                # The standard library reads parameters in quadratic time.
                self.problems.append('a file name was too long to be read')
                continue
            params = part.get_params(header=header) or ()
            values = [value for name, value in params if name.lower() == key]
            if not values:
                continue
            # RFC 2231 values (filename*=) win over plain ones, as RFC 6266 says.
            extended = [value for value in values if isinstance(value, tuple)]
            value = extended[0] if extended else values[0]
            if isinstance(value, tuple):
                charset, _language, text = value
                try:
                    data = text.encode('latin-1', 'surrogateescape')
                except UnicodeEncodeError:
                    data = text.encode('utf-8', 'surrogateescape')
                name = decode_bytes(data, charset or None)
            else:
                name = decode_header_text(email_utils.unquote(value))
            name = _clean_filename(name)
            if name:
                return name
        return None

    def _content_id(self, part):
        value = _fix_8bit(part.get('content-id') or '').strip().strip('<>').strip()
        return _strip_nul(value) or None

    def _attachment(self, part, ctype, filename):
        what = 'the attachment "%s"' % filename if filename else 'an attachment'
        cte = _cte(part)
        if cte == 'base64':
            encoded = _encoded_payload(part)
            compact = encoded.translate(None, _WHITESPACE)
            estimate = len(compact.rstrip(b'=')) * 3 // 4
            if estimate > self.max_bytes:
                return _Pending(filename, ctype, estimate, None, self._content_id(part))
            content, problem = _decode_base64(compact)
            if problem:
                self.problems.append('%s has broken base64 encoding (%s); what could be decoded '
                                     'was kept' % (what, problem))
        else:
            content = self._bytes(part, what)
        size = len(content)
        if ctype == 'application/octet-stream' and filename:
            # Some webmails send every file as octet-stream: the name says more.
            ctype = mimetypes.guess_type(filename, strict=False)[0] or ctype
        return _Pending(filename, ctype, size, content if size <= self.max_bytes else None,
                        self._content_id(part))

    def _forwarded(self, part, ctype):
        """A forwarded message, written back out as an .eml file."""
        inner = part.get_payload()
        buffer = io.BytesIO()
        generator = BytesGenerator(buffer, mangle_from_=False,
                                   policy=_POLICY_CRLF if self.crlf else _POLICY)
        try:
            for message in (inner if isinstance(inner, list) else []):
                generator.flatten(message)
        except Exception:
            self.problems.append('a forwarded message could not be fully written out as a file')
        content = buffer.getvalue()
        cte = _cte(part)
        if cte == 'base64':   # not allowed for message/rfc822, but it is out there
            content, _problem = _decode_base64(content)
        elif cte == 'quoted-printable':
            content = binascii.a2b_qp(content)
        stem = None
        if isinstance(inner, list) and inner:
            subject = inner[0].get('subject') or ''
            stem = _clean_filename(_fold_spaces(decode_header_text(subject)))[:100] or None
        size = len(content)
        return _Pending(self._filename(part), ctype, size,
                        content if size <= self.max_bytes else None, self._content_id(part), stem)


_CHARSET_PARAM = re.compile(r';\s*charset\s*=\s*"?\s*([^";\s]*)', re.IGNORECASE)


def _charset(part):
    match = _CHARSET_PARAM.search(part.get('content-type') or '')
    return match.group(1) if match else None


def _disposition(part):
    return (part.get('content-disposition') or '').split(';', 1)[0].strip().lower()


def _text_as_html(text):
    return '<div style="white-space: pre-wrap">%s</div>' % html.escape(text)


def _join_texts(texts):
    texts = [t for t in texts if t]
    if len(texts) <= 1:
        return texts[0] if texts else ''
    return '\n\n'.join(t.strip('\n') for t in texts) + '\n'


_CONTROL_CHARACTERS = re.compile(r'[\x00-\x1f\x7f]')


def _clean_filename(name):
    """A file name safe to show and store: no folders, no control characters,
    no characters that reorder what is shown, no leading dots."""
    name = safe_text.safe_text(safe_text.without_bidi_controls(name))
    name = name.replace('\\', '/').rsplit('/', 1)[-1]
    name = _fold_spaces(_CONTROL_CHARACTERS.sub(' ', name)).strip('. ')
    if len(name) > 200:
        stem, dot, extension = name.rpartition('.')
        name = (stem[:190] + dot + extension[:10]) if dot and len(extension) <= 10 else name[:200]
    return name


_EXTENSIONS = {
    'application/pdf': '.pdf', 'text/calendar': '.ics', 'application/ics': '.ics',
    'message/rfc822': '.eml', 'message/global': '.eml', 'message/delivery-status': '.txt',
    'text/plain': '.txt', 'text/html': '.html', 'text/csv': '.csv', 'text/vcard': '.vcf',
    'text/x-vcard': '.vcf',
    'image/png': '.png', 'image/jpeg': '.jpg', 'image/jpg': '.jpg', 'image/gif': '.gif',
    'image/webp': '.webp', 'image/svg+xml': '.svg', 'image/bmp': '.bmp', 'image/tiff': '.tif',
    'application/zip': '.zip', 'application/json': '.json', 'application/xml': '.xml',
    'text/xml': '.xml', 'application/msword': '.doc', 'application/vnd.ms-excel': '.xls',
    'application/vnd.ms-powerpoint': '.ppt', 'application/rtf': '.rtf', 'text/rtf': '.rtf',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': '.docx',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': '.xlsx',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation': '.pptx',
    'application/vnd.oasis.opendocument.text': '.odt',
    'application/vnd.oasis.opendocument.spreadsheet': '.ods',
    'application/pgp-signature': '.asc', 'application/pkcs7-signature': '.p7s',
    'application/x-pkcs7-signature': '.p7s', 'application/ms-tnef': '.dat',
    'audio/mpeg': '.mp3', 'video/mp4': '.mp4', 'application/octet-stream': '.bin',
}


def _extension(content_type):
    extension = _EXTENSIONS.get(content_type)
    if extension is None:
        extension = mimetypes.guess_extension(content_type, strict=False) or '.bin'
    return extension


_CID_REFERENCE = re.compile(r'cid:([^\s"\'<>)]+)', re.IGNORECASE)


def _finish_attachments(pending, htmls):
    if not pending:
        return ()
    referenced = set()
    for text in htmls:
        referenced.update(content_id_key(ref) for ref in _CID_REFERENCE.findall(text))
    attachments = []
    for number, item in enumerate(pending, 1):
        filename = item.filename
        if not filename:
            extension = _extension(item.content_type)
            filename = (item.stem + extension) if item.stem else \
                'attachment-%d%s' % (number, extension)
        attachments.append(Attachment(
            filename=filename,
            content_type=item.content_type,
            size=item.size,
            content=item.content,
            content_id=item.content_id,
            is_inline=bool(item.content_id) and content_id_key(item.content_id) in referenced,
        ))
    return tuple(attachments)


def content_id_key(value):
    """The form in which a Content-ID and a ``cid:`` URL are compared (RFC 2392:
    the URL is the percent-encoded id; mailers differ in case and spacing)."""
    value = urllib.parse.unquote(value or '')
    return ''.join(value.split()).strip('<>').lower()


_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*?(/?)>')
_VOID_TAGS = frozenset(('area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link',
                        'meta', 'param', 'source', 'track', 'wbr', 'basefont', 'frame', 'keygen'))


def html_depth(text):
    """How deeply the elements of an HTML text nest (approximately: tags are
    counted, not parsed). One pass; [^<>] keeps the pattern linear."""
    if not text or '<' not in text:
        return 0
    depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(text):
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing and name.lower() not in _VOID_TAGS:
            depth += 1
            deepest = max(deepest, depth)
    return deepest
