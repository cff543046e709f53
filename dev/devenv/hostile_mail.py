"""A corpus of malformed, odd and hostile messages, generated and deterministic.

Each kind is a way mail has stopped a mailbox or misled a salesperson:
charsets that decode to lone surrogates, values too long for an index,
spoofed display names, quadratic inputs, impossible dates, broken
encodings and structures, Message-IDs reused by someone else. Every kind
comes in variants drawn from a seeded generator, so the same seed gives the
same bytes.

    for case in hostile_corpus(seed=11):
        case.kind, case.raw    # a kind name, the message as an IMAP server holds it

``ordinary_message(n)`` is a plain message, to send after a hostile one.
"""
import base64
import dataclasses
import random

CRLF = b'\r\n'
DOMAIN = 'corpus.example'


@dataclasses.dataclass(frozen=True)
class Case:
    kind: str
    raw: bytes
    message_id: str


def _b(value):
    return value if isinstance(value, bytes) else value.encode('utf-8', 'surrogatepass')


def _message(headers, body=b'Hello', content_type=b'text/plain; charset=utf-8', date=None,
             message_id=None, extra=()):
    """A whole message: the given headers (bytes or text) plus what is missing."""
    lines = [_b(h) for h in headers]
    names = {line.split(b':', 1)[0].strip().lower() for line in lines}
    if b'from' not in names:
        lines.append(b'From: Sender <sender@%s>' % DOMAIN.encode())
    if b'to' not in names:
        lines.append(b'To: owner@localhost')
    if b'date' not in names:
        lines.append(b'Date: ' + _b(date or 'Tue, 24 Nov 2026 09:30:00 +0000'))
    if b'message-id' not in names and message_id:
        lines.append(b'Message-ID: <' + _b(message_id) + b'>')
    if b'content-type' not in names and content_type is not None:
        lines += [b'MIME-Version: 1.0', b'Content-Type: ' + _b(content_type)]
    lines += [_b(h) for h in extra]
    raw = b'\n'.join(lines) + b'\n\n' + _b(body)
    return raw.replace(b'\r\n', b'\n').replace(b'\n', CRLF) + CRLF


def _multipart(parts, subtype='mixed', boundary='=_hostile'):
    lines = []
    for part in parts:
        lines += [b'--' + _b(boundary), _b(part)]
    lines.append(b'--' + _b(boundary) + b'--')
    return (b'multipart/' + _b(subtype) + b'; boundary="' + _b(boundary) + b'"',
            b'\n'.join(lines))


def _word(data, charset):
    return '=?%s?B?%s?=' % (charset, base64.b64encode(_b(data)).decode('ascii'))


# -- the kinds ----------------------------------------------------------------------------
# Each takes (rng, n, mid) and returns the raw message; ``mid`` is its Message-ID.

_NOT_CHARSETS = ('unicode_escape', 'raw_unicode_escape', 'punycode', 'idna', 'rot13', 'base64',
                 'hex', 'zlib', 'uu', 'quopri', 'unicode-internal', 'undefined', 'charmap')
_ESCAPES = ('\\ud800', '\\udfff', '\\udc80abc', 'x\\ud83d', '\\x00', '\\U0010ffff', '\\N{BULLET}')


def _subject_not_a_charset(rng, n, mid):
    label = _NOT_CHARSETS[n % len(_NOT_CHARSETS)]
    text = 'Offer %s %s' % (rng.choice(_ESCAPES), n)
    return _message(['Subject: ' + _word(text, label)], message_id=mid)


def _body_not_a_charset(rng, n, mid):
    label = _NOT_CHARSETS[n % len(_NOT_CHARSETS)]
    return _message(['Subject: body in %s' % label], body='Hi %s there' % rng.choice(_ESCAPES),
                    content_type='text/plain; charset=%s' % label, message_id=mid)


def _filename_not_a_charset(rng, n, mid):
    label = _NOT_CHARSETS[n % len(_NOT_CHARSETS)]
    ctype, body = _multipart([
        'Content-Type: text/plain\n\nsee the file',
        "Content-Type: application/pdf\nContent-Disposition: attachment; "
        "filename*=%s''invoice%%5Cud800%d.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK" % (label, n)])
    return _message(['Subject: file named in %s' % label], body=body, content_type=ctype, message_id=mid)


def _binary_content_type(rng, n, mid):
    junk = bytes(rng.choice([0, 0xff, 0xfe, 0x80, 0xc3, 0x01]) for _ in range(1 + n % 5))
    ctype, body = _multipart([
        b'Content-Type: text/plain\n\nsee the file',
        b'Content-Type: application/' + junk + b'pdf; name="f' + str(n).encode() + b'.bin"\n'
        b'Content-Disposition: attachment\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK'])
    return _message(['Subject: 8-bit content type %d' % n], body=body, content_type=ctype,
                    message_id=mid)


def _long_message_id(rng, n, mid):
    length = rng.randint(2000, 10000)
    return _message(['Subject: long Message-ID %d' % n,
                     'Message-ID: <%s%s@%s>' % (mid.split('@')[0], 'i' * length, DOMAIN)])


def _long_references(rng, n, mid):
    long_ids = ' '.join('<%s%d@x>' % ('r' * rng.randint(2000, 10000), k) for k in range(1 + n % 3))
    many = ' '.join('<ref%d.%d@x>' % (n, k) for k in range(rng.choice([10, 500, 2000])))
    return _message(['Subject: long references %d' % n, 'In-Reply-To: <%s@x>' % ('p' * 3000),
                     'References: ' + long_ids + ' ' + many], message_id=mid)


def _long_from_address(rng, n, mid):
    local = 'a' * rng.randint(1000, 3000)
    return _message(['From: Long <%s%d@%s>' % (local, n, DOMAIN), 'Subject: long address %d' % n],
                    message_id=mid)


def _long_display_name(rng, n, mid):
    name = ''.join(rng.choice('abcdefgh ') for _ in range(rng.randint(2000, 10000)))
    return _message(['From: "%s" <name%d@%s>' % (name, n, DOMAIN), 'Subject: long name %d' % n],
                    message_id=mid)


def _huge_subject(rng, n, mid):
    size = rng.choice([20000, 50000, 100000])
    words = ' '.join(rng.choice(['quote', 'offer', 'price', 'deal']) for _ in range(size // 6))
    return _message(['Subject: %d %s' % (n, words)], message_id=mid)


def _many_encoded_words(rng, n, mid):
    count = rng.choice([1000, 5000])
    words = ' '.join(_word('w%d' % k, 'utf-8') for k in range(count))
    return _message(['Subject: %d %s' % (n, words)], message_id=mid)


def _spoofed_display_name(rng, n, mid):
    forms = ['support@bank.example <evil%d@attacker.example>',
             '"support@bank.example" <evil%d@attacker.example>',
             'ceo@localhost <evil%d@attacker.example>',
             '"owner@localhost" <evil%d@attacker.example>']
    return _message(['From: ' + forms[n % len(forms)] % n, 'Subject: urgent payment %d' % n],
                    message_id=mid)


def _bidi_names(rng, n, mid):
    control = rng.choice(['\u202e', '\u202d', '\u2066', '\u2067', '\u200f'])
    ctype, body = _multipart([
        'Content-Type: text/plain\n\nsee the invoice',
        "Content-Type: application/octet-stream\nContent-Disposition: attachment; "
        "filename*=utf-8''invoice%s%d%%E2%%80%%AEfdp.exe\n\nMZ" % (
            ''.join('%%%02X' % b for b in control.encode('utf-8')), n)])
    return _message(['From: %s <bidi%d@%s>' % (_word('Bank%s Support' % control, 'utf-8'), n, DOMAIN),
                     'Subject: invoice %d' % n], body=body, content_type=ctype, message_id=mid)


def _quadratic_from(rng, n, mid):
    spaces = rng.choice([1000, 50000, 200000])
    header = rng.choice(['From: a%sb', 'To: a%sb', 'Cc: x@y %s:', 'From: "%s'])
    return _message([header % (' ' * spaces), 'Subject: spaces %d' % n], message_id=mid)


def _quoted_local_part(rng, n, mid):
    local = ['jane doe', 'a,b', 'x@y', 'john.."smith', 'dot.'][n % 5]
    return _message(['From: "%s %d"@repeat.example' % (local, n), 'Subject: quoted local %d' % n],
                    message_id=mid)


def _nested_comments(rng, n, mid):
    depth = rng.choice([100, 1000, 5000])
    closed = ')' * depth if n % 2 else ''
    return _message(['From: %s%s Bob <bob%d@%s>' % ('(' * depth, closed, n, DOMAIN),
                     'Subject: nested comments %d' % n], message_id=mid)


def _broken_iso2022jp(rng, n, mid):
    good = 'お見積もりの件 %d' % n
    data = good.encode('iso2022_jp')
    cut = data[:rng.randint(4, len(data) - 2)]
    if n % 2:
        cut += b'\x1b$B$3$'
    return _message(['Subject: ' + '=?iso-2022-jp?B?%s?=' % base64.b64encode(cut).decode()],
                    body=cut, content_type='text/plain; charset=iso-2022-jp', message_id=mid)


def _utf16_without_bom(rng, n, mid):
    text = 'Grüße aus Köln %d' % n
    data = text.encode('utf-16-be') if n % 2 else text.encode('utf-16-le')
    return _message(['Subject: utf-16 %d' % n, 'Content-Transfer-Encoding: base64'],
                    body=base64.b64encode(data), content_type='text/plain; charset=utf-16',
                    message_id=mid)


def _impossible_date(rng, n, mid):
    dates = ['Mon, 1 Jan 0 10:00:00 +0000', 'Mon, 1 Jan -1 10:00:00 +0000',
             'Mon, 1 Jan 0000 10:00:00 +0000', 'Mon, 1 Jan 99999 10:00:00 +0000',
             'Mon, 31 Feb 2026 10:00:00 +0000', 'Mon, 1 Jan 2026 99:99:99 +0000',
             'Mon, 1 Jan 2026 10:00:00 +9999', 'yesterday', '', '\x01\x02']
    return _message(['Subject: odd date %d' % n], date=dates[n % len(dates)], message_id=mid)


def _deep_html(rng, n, mid):
    depth = rng.choice([300, 1000, 3000])
    html = '<div>' * depth + 'deep %d' % n + '</div>' * depth
    return _message(['Subject: deep html %d' % n], body=html, content_type='text/html; charset=utf-8',
                    message_id=mid)


def _cid_forms(rng, n, mid):
    forms = [('<Logo%d@X>', 'cid:logo%d@x'), ('< logo%d@x >', 'cid:logo%d@x'),
             ('<my logo%d@x>', 'cid:my%%20logo%d@x'), ('<LOGO%d@X>', 'CID:logo%d@x')]
    content_id, reference = forms[n % len(forms)]
    png = base64.b64encode(b'\x89PNG\r\n\x1a\n' + bytes(20)).decode()
    ctype, body = _multipart([
        'Content-Type: text/html\n\n<p>Logo: <img src="%s"></p>' % (reference % n),
        'Content-Type: image/png\nContent-ID: %s\nContent-Transfer-Encoding: base64\n\n%s' % (
            content_id % n, png)], subtype='related')
    return _message(['Subject: inline image %d' % n], body=body, content_type=ctype, message_id=mid)


def _nul_and_controls(rng, n, mid):
    junk = bytes(rng.choice([0, 1, 8, 0x1b, 0x7f]) for _ in range(3))
    return _message([b'Subject: control ' + junk + str(n).encode(),
                     b'From: Ctl' + junk + b' <ctl' + str(n).encode() + b'@corpus.example>'],
                    body=b'body ' + junk + b' end', message_id=mid)


def _raw_8bit_headers(rng, n, mid):
    junk = bytes(rng.randint(0x80, 0xff) for _ in range(rng.randint(1, 12)))
    return _message([b'Subject: 8bit ' + junk + str(n).encode(),
                     b'From: ' + junk + b' <u' + junk[:2] + str(n).encode() + b'@corpus.example>',
                     b'To: "' + junk + b'" <owner@localhost>'],
                    body=b'text ' + junk, content_type=b'text/plain; charset=' + junk[:3],
                    message_id=mid)


def _broken_mime(rng, n, mid):
    variants = [
        ('multipart/mixed', 'no boundary at all'),
        ('multipart/mixed; boundary="never"', '--other\nContent-Type: text/plain\n\nlost'),
        ('text/plain; charset=utf-8', '=ZZ broken =4 quoted printable ='),
        ('text/plain', base64.b64encode(b'cut off base64 data')[:-3].decode() + '!!'),
        ('multipart/alternative; boundary=b', '--b\n\n--b--'),
        ('message/rfc822', 'Subject: inner\n\n' + 'x' * 100),
        ('application/octet-stream', ''),
        ('text/html', '<html><body><p>unclosed <b><i><table><tr><td>'),
    ]
    ctype, body = variants[n % len(variants)]
    cte = ['Content-Transfer-Encoding: quoted-printable'] if n % len(variants) == 2 else \
        ['Content-Transfer-Encoding: base64'] if n % len(variants) == 3 else []
    return _message(['Subject: broken mime %d' % n] + cte, body=body, content_type=ctype, message_id=mid)


def _deep_multipart(rng, n, mid):
    depth = rng.choice([50, 200, 500])
    body = 'Content-Type: text/plain\n\ncore %d' % n
    for level in range(depth):
        boundary = 'b%d' % level
        body = 'Content-Type: multipart/mixed; boundary="%s"\n\n--%s\n%s\n--%s--' % (
            boundary, boundary, body, boundary)
    ctype, rest = body.split('\n\n', 1)
    return _message(['Subject: deep multipart %d' % n], body=rest,
                    content_type=ctype[len('Content-Type: '):], message_id=mid)


def _many_recipients(rng, n, mid):
    count = rng.choice([100, 400])
    to = ', '.join('person%d.%d@many%d.example' % (n, k, k % 7) for k in range(count))
    return _message(['To: ' + to, 'Subject: many recipients %d' % n], message_id=mid)


def _semicolon_filename(rng, n, mid):
    ctype, body = _multipart([
        'Content-Type: text/plain\n\nfile below',
        'Content-Type: application/pdf\nContent-Disposition: attachment; filename="%s%d.pdf"\n\nPDF'
        % (';' * rng.choice([1000, 20000]), n)])
    return _message(['Subject: semicolons %d' % n], body=body, content_type=ctype, message_id=mid)


def _odd_message_ids(rng, n, mid):
    forms = ['Message-ID: %s' % mid, 'Message-ID: <>', 'Message-ID: < %s >' % mid,
             'Message-ID: ' + 'a' * 5000, 'Message-ID: <%s> <second@x>' % mid, 'Message-ID:']
    return _message(['Subject: odd id %d' % n, forms[n % len(forms)]])


def _path_filenames(rng, n, mid):
    name = rng.choice(['../../etc/passwd', '..', 'C:\\Windows\\evil.exe', '.hidden', ' ', 'a' * 5000])
    ctype, body = _multipart([
        'Content-Type: text/plain\n\nfile',
        'Content-Type: application/octet-stream; name="%s"\nContent-Disposition: attachment; '
        'filename="%s"\n\nDATA%d' % (name, name, n)])
    return _message(['Subject: path name %d' % n], body=body, content_type=ctype, message_id=mid)


def _groups_and_oddities(rng, n, mid):
    forms = ['undisclosed-recipients:;', 'team: a%d@x.example, b@y.example;' % n,
             'Doe, John <jd%d@x.example>' % n, '<@route.example:r%d@x.example>' % n,
             '"unterminated <q%d@x.example>' % n, ',,,', '@', '<>', 'mailto:m%d@x.example' % n]
    return _message(['To: ' + forms[n % len(forms)], 'Cc: ' + forms[(n + 3) % len(forms)],
                     'Subject: address forms %d' % n], message_id=mid)


def _astral_and_emoji(rng, n, mid):
    text = ''.join(rng.choice(['😀', '𝔘', '\U0010fffd', 'ﷺ', '\ufeff', 'ß']) for _ in range(30))
    return _message(['Subject: ' + _word(text, 'utf-8'), 'From: %s <emoji%d@%s>' % (
        _word(text[:5], 'utf-8'), n, DOMAIN)], body=text, message_id=mid)


def _headers_only(rng, n, mid):
    raw = b'Subject: headers only %d\r\nFrom: h%d@corpus.example\r\nMessage-ID: <%s>\r\n' % (
        n, n, mid.encode())
    return raw if n % 2 else raw.replace(b'\r\n', b'\n')


KINDS = {
    'subject_not_a_charset': (_subject_not_a_charset, 40),
    'body_not_a_charset': (_body_not_a_charset, 26),
    'filename_not_a_charset': (_filename_not_a_charset, 26),
    'binary_content_type': (_binary_content_type, 15),
    'long_message_id': (_long_message_id, 15),
    'long_references': (_long_references, 12),
    'long_from_address': (_long_from_address, 12),
    'long_display_name': (_long_display_name, 12),
    'huge_subject': (_huge_subject, 8),
    'many_encoded_words': (_many_encoded_words, 8),
    'spoofed_display_name': (_spoofed_display_name, 12),
    'bidi_names': (_bidi_names, 15),
    'quadratic_from': (_quadratic_from, 12),
    'quoted_local_part': (_quoted_local_part, 15),
    'nested_comments': (_nested_comments, 10),
    'broken_iso2022jp': (_broken_iso2022jp, 15),
    'utf16_without_bom': (_utf16_without_bom, 10),
    'impossible_date': (_impossible_date, 20),
    'deep_html': (_deep_html, 9),
    'cid_forms': (_cid_forms, 16),
    'nul_and_controls': (_nul_and_controls, 20),
    'raw_8bit_headers': (_raw_8bit_headers, 25),
    'broken_mime': (_broken_mime, 24),
    'deep_multipart': (_deep_multipart, 6),
    'many_recipients': (_many_recipients, 4),
    'semicolon_filename': (_semicolon_filename, 6),
    'odd_message_ids': (_odd_message_ids, 18),
    'path_filenames': (_path_filenames, 12),
    'groups_and_oddities': (_groups_and_oddities, 27),
    'astral_and_emoji': (_astral_and_emoji, 15),
    'headers_only': (_headers_only, 8),
}


def _same_message_id(rng, pairs):
    """Pairs of different messages sharing one Message-ID (the second an outsider's)."""
    cases = []
    for n in range(pairs):
        mid = 'shared%d@%s' % (n, DOMAIN)
        original = _message(['From: Owner <owner@localhost>', 'Subject: our offer %d' % n],
                             body='The real offer %d' % n, message_id=mid)
        impostor = _message(['From: Owner <owner@localhost>', 'Subject: our offer %d' % n],
                            body='Pay to account %d' % rng.randint(1, 10 ** 9), message_id=mid)
        cases += [Case('same_message_id', original, mid), Case('same_message_id', impostor, mid)]
    return cases


def hostile_corpus(seed=11, same_id_pairs=16):
    """Every case, in a stable order: the kinds above and pairs of messages
    sharing a Message-ID."""
    rng = random.Random(seed)
    cases = []
    for kind, (make, count) in KINDS.items():
        for n in range(count):
            mid = 'hostile-%s-%d@%s' % (kind.replace('_', '-'), n, DOMAIN)
            cases.append(Case(kind, make(rng, n, mid), mid))
    return cases + _same_message_id(rng, same_id_pairs)


def ordinary_message(n, seed=11):
    """A plain message from a customer: what must arrive whatever came before it."""
    mid = 'ordinary-%d-%d@customer.example' % (seed, n)
    raw = _message(['From: Carla Customer <carla@customer.example>',
                    'Subject: Order %d' % n], body='Please ship order %d.' % n, message_id=mid)
    return Case('ordinary', raw, mid)
