"""Hostile and broken mail, read as the user should see it.

Each row is one kind of message that once stopped a mailbox or misled a
salesperson, and what the CRM now shows for it.
"""
import base64
import time

import pytest

from email_crm_sync.lib import address_list, address_rules, safe_text, subject_key
from email_crm_sync.lib.mime_parser import (
    MAX_HTML_DEPTH, content_id_key, decode_bytes, parse_date, parse_message)

from .test_mime_parser import leaf, message, multipart


def _storable(text):
    """What PostgreSQL accepts in a text column."""
    text.encode('utf-8')          # raises on a lone surrogate
    return '\x00' not in text


# -- text the database accepts --------------------------------------------------------

@pytest.mark.parametrize('label', [
    'unicode_escape', 'raw_unicode_escape', 'punycode', 'idna', 'rot13', 'rot_13', 'base64',
    'hex', 'zlib', 'uu', 'quopri', 'bz2', 'unicode-internal', 'undefined', 'charmap',
])
def test_labels_that_are_no_charset_read_like_an_unknown_charset(label):
    subject = '=?%s?B?%s?=' % (label, base64.b64encode(b'\\ud800 caf\xc3\xa9').decode())
    parsed = parse_message(message('From: a@x.example', 'Subject: ' + subject,
                                   entity=leaf('text/plain; charset=' + label, b'Hello \\udc80 \xe9')))
    assert parsed.subject == '\\ud800 café'
    assert parsed.text_body == 'Hello \\udc80 é'
    assert parsed.from_[0].email == 'a@x.example'
    assert _storable(parsed.subject) and _storable(parsed.text_body)


@pytest.mark.parametrize('label, codec', [
    ('utf-8', 'utf-8'), ('ISO-8859-15', 'iso8859-15'), ('windows-1251', 'cp1251'),
    ('koi8-r', 'koi8-r'), ('shift_jis', 'shift_jis'), ('gb2312', 'gb2312'), ('big5', 'big5'),
    ('iso-2022-jp', 'iso2022_jp'), ('euc-kr', 'euc_kr'), ('utf-16', 'utf-16'), ('utf-7', 'utf-7'),
    ('mac-roman', 'mac-roman'), ('tis-620', 'tis-620'), ('unicode_escape', None), ('idna', None),
    ('base64', None), ('rot13', None), ('nonsense', None), ('', None),
])
def test_only_real_mail_charsets_are_codecs(label, codec):
    assert safe_text.mail_codec(label) == codec


@pytest.mark.parametrize('value, expected', [
    ('plain', 'plain'),
    ('caf\u00e9', 'caf\u00e9'),
    ('a\x00b', 'ab'),
    ('lone \ud800 high', 'lone \ufffd high'),
    ('lone \udcff low', 'lone \ufffd low'),
    ('\U0001F600 emoji', '\U0001F600 emoji'),
    # What XML-RPC (XML 1.0) cannot carry: the answers listing it would break.
    ('bell\x07 and\x1b escape', 'bell and escape'),
    ('form\x0cfeed \x0bvtab', 'formfeed vtab'),
    ('tab\tCR\rLF\n kept', 'tab\tCR\rLF\n kept'),
    ('non\ufffe char\uffff', 'non\ufffd char\ufffd'),
    (None, None),
    (False, False),
])
def test_safe_text_replaces_what_postgresql_refuses(value, expected):
    assert safe_text.safe_text(value) == expected


def test_utf7_that_decodes_to_surrogates_is_made_storable():
    assert _storable(decode_bytes(b'+2D3cAA-', 'utf-7'))


@pytest.mark.parametrize('header, expected', [
    ('application/pdf', 'application/pdf'),
    ('Application/PDF; name=x', 'application/pdf'),
    ('text/\udcff\udcfehtml', 'application/octet-stream'),
    ('image/png\x00', 'application/octet-stream'),
    ('image/p\u00e9ng', 'application/octet-stream'),
    ('nonsense', 'application/octet-stream'),
    ('', 'application/octet-stream'),
])
def test_attachment_types_are_sanitised(header, expected):
    assert safe_text.safe_mimetype(header) == expected


@pytest.mark.parametrize('name, expected', [
    ('f.pdf', 'application/pdf'),             # the name says more than the broken type
    ('f.unknown', 'application/octet-stream'),
])
def test_attachment_with_8bit_and_nul_bytes_in_its_content_type(name, expected):
    raw = message('From: a@x.example', 'Subject: file', entity=multipart(
        'mixed', leaf('text/plain', 'see file'),
        leaf(b'application/\xff\xfe\x00pdf; name="' + name.encode() + b'"', 'PDF',
             'Content-Disposition: attachment')))
    parsed = parse_message(raw)
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [(name, expected)]


# -- bounded index keys ---------------------------------------------------------------

@pytest.mark.parametrize('length', [10, 255, 256, 2000, 10000])
def test_long_values_are_bounded_and_stay_distinct(length):
    value = 'x' * length
    other = 'x' * (length - 1) + 'y'
    assert len(safe_text.bounded(value)) <= safe_text.KEY_LIMIT
    assert safe_text.bounded(value) != safe_text.bounded(other)
    if length <= safe_text.KEY_LIMIT:
        assert safe_text.bounded(value) == value


def test_long_message_ids_and_references_are_bounded():
    long_id = 'a' * 10000 + '@x.example'
    raw = message('From: a@x.example', 'Message-ID: <%s>' % long_id,
                  'References: <%s> <%s>' % ('b' * 5000 + '@x', 'short@x'))
    parsed = parse_message(raw)
    assert len(parsed.message_id) <= safe_text.KEY_LIMIT and parsed.message_id.startswith('aaaa')
    assert all(len(r) <= safe_text.KEY_LIMIT for r in parsed.references)
    assert parsed.references[-1] == 'short@x'


def test_long_subjects_have_a_bounded_key():
    assert len(subject_key.subject_key('Quote ' * 20000)) == safe_text.SUBJECT_KEY_LIMIT
    assert subject_key.subject_key('Re: [sales] Quote') == 'quote'
    assert subject_key.subject_key('[2] Quote') == '[2] quote'


def test_contact_names_are_bounded():
    name = address_rules.contact_name('N' * 10000, 'n@x.example')
    assert len(name) == safe_text.NAME_LIMIT and name.endswith('\u2026')


def test_overlong_addresses_never_become_contacts():
    address = 'a' * 3000 + '@x.example'
    assert not address_rules.may_create_contact(address)
    assert address_rules.may_create_contact('jane@x.example')


# -- addresses as RFC 5322 says ---------------------------------------------------------

@pytest.mark.parametrize('header, expected', [
    ('a@x.example', [('', 'a@x.example')]),
    ('Jane <jane@x.example>', [('Jane', 'jane@x.example')]),
    ('support@bank.example <evil@attacker.example>', [('support@bank.example', 'evil@attacker.example')]),
    ('"support@bank.example" <evil@attacker.example>', [('support@bank.example', 'evil@attacker.example')]),
    ('"jane doe"@repeat.example', [('', '"jane doe"@repeat.example')]),
    ('"Doe, Jane" <jd@x.example>, bob@y.example', [('Doe, Jane', 'jd@x.example'), ('', 'bob@y.example')]),
    ('jo@x.example (Jo Smith)', [('Jo Smith', 'jo@x.example')]),
    ('Jo (the (nested) one) <jo@x.example>', [('Jo', 'jo@x.example')]),
    ('sales: a@x.example, b@x.example;, c@y.example', [('', 'a@x.example'), ('', 'b@x.example'), ('', 'c@y.example')]),
    ('undisclosed-recipients:;', []),
    ('<@relay.example:route@x.example>', [('', 'route@x.example')]),
    ('"unterminated <a@x.example>', [('"unterminated <a@x.example>"', '')]),
    ('Doe, John <jd@x.example>', [('', 'Doe'), ('John', 'jd@x.example')]),
])
def test_address_lists_read_as_rfc_5322_says(header, expected):
    assert address_list.split_addresses(header) == expected


@pytest.mark.parametrize('header, sender, name', [
    ('support@bank.example <evil@attacker.example>', 'evil@attacker.example', 'support@bank.example'),
    ('"jane doe"@repeat.example', '"jane doe"@repeat.example', ''),
    ('=?utf-8?q?Jane_=E2=80=AEtxt.exe?= <jane@x.example>', 'jane@x.example', 'Jane txt.exe'),
    ('(' * 5000 + 'x' + ')' * 5000 + ' Bob <bob@x.example>', 'bob@x.example', 'Bob'),
])
def test_the_sender_is_the_address_in_angle_brackets(header, sender, name):
    parsed = parse_message(message('From: ' + header, 'Subject: hi', entity=leaf('text/plain', 'body')))
    assert (parsed.sender.email, parsed.sender.name) == (sender, name)
    assert parsed.subject == 'hi' and parsed.text_body == 'body'


@pytest.mark.parametrize('name, address, shown', [
    ('Jane Doe', 'jane@x.example', 'Jane Doe'),
    ('', 'jane@x.example', 'jane@x.example'),
    ('jane@x.example', 'jane@x.example', 'jane@x.example'),
    ('support@bank.example', 'evil@attacker.example', '"support@bank.example" via evil@attacker.example'),
])
def test_a_name_that_reads_as_another_address_is_shown_with_the_address(name, address, shown):
    assert address_rules.shown_name(name, address) == shown


def test_quoted_local_part_normalises_to_itself():
    assert address_rules.normalize('"Jane Doe"@Repeat.example') == '"jane doe"@repeat.example'
    assert address_rules.normalize('Jane <"jane doe"@repeat.example>') == '"jane doe"@repeat.example'
    assert address_rules.normalize('not an address') == ''


def test_bidi_controls_are_removed_from_file_names():
    raw = message('From: a@x.example', entity=multipart(
        'mixed', leaf('text/plain', 'see file'),
        leaf('application/octet-stream', 'MZ', 'Content-Disposition: attachment; '
             'filename*=utf-8\'\'invoice%E2%80%AEfdp.exe')))
    assert [a.filename for a in parse_message(raw).attachments] == ['invoicefdp.exe']


# -- time that grows with the input, not its square ------------------------------------

def _cost(function, make, size):
    value = make(size)
    started = time.perf_counter()
    function(value)
    return time.perf_counter() - started


HEADERS = {
    'From of a, spaces, b': lambda n: 'From: a' + ' ' * n + 'b',
    'nested comments in From': lambda n: 'From: ' + '(' * n + ')' * n + ' a@x.example',
    'unclosed comments': lambda n: 'To: ' + '(' * n,
    'quotes': lambda n: 'To: ' + '"' * n,
    'colons after an address': lambda n: 'Cc: x@y.example ' + ':' * n,
    'Message-ID without @': lambda n: 'Message-ID: ' + 'a' * n,
    'References of one word': lambda n: 'References: ' + 'a' * n,
    'subject list tag': lambda n: 'Subject: [' + 'a' * n,
    'subject of prefixes': lambda n: 'Subject: ' + 'Re: ' * (n // 4),
    'encoded words': lambda n: 'Subject: ' + '=?utf-8?q?a?= ' * (n // 14),
    'unclosed encoded words': lambda n: 'Subject: ' + '=?x?q?' * (n // 6),
    'angle brackets': lambda n: 'To: ' + '<' * n,
    'long date': lambda n: 'Date: ' + '1 ' * (n // 2),
    'filename parameter': lambda n: 'Content-Disposition: attachment; filename="' + ';' * n + '"',
}


@pytest.mark.parametrize('kind', sorted(HEADERS))
def test_reading_a_header_takes_linear_time(kind):
    """Four times the input may cost about four times the time, never sixteen."""
    def parse(header):
        parse_message(message(header, entity=leaf('text/plain', 'x')))

    small, large = 50000, 200000
    parse(HEADERS[kind](1000))  # warm up caches
    # The fastest of three runs: the machine is shared, and noise only adds time.
    ratio = min(_cost(parse, HEADERS[kind], large) for _ in range(3)) / \
        max(min(_cost(parse, HEADERS[kind], small) for _ in range(3)), 1e-3)
    assert ratio < 9, '%s: x4 input costs x%.1f time' % (kind, ratio)


# -- dates, charsets, structure ------------------------------------------------------

@pytest.mark.parametrize('value', [
    'Mon, 1 Jan 0 10:00:00 +0000', 'Mon, 1 Jan -1 10:00:00 +0000', 'Mon, 1 Jan 0000 10:00:00 +0000',
    'Mon, 1 Jan 99999 10:00:00 +0000', 'Mon, 31 Feb 2026 10:00:00 +0000', 'Mon, 1 Jan 2026 25:61:00 +0000',
    'yesterday', '\x00',
])
def test_impossible_dates_are_not_dates(value):
    assert parse_date(value) is None


def test_two_digit_years_still_read():
    assert parse_date('Mon, 1 Jan 99 10:00:00 +0000').year == 1999
    assert parse_date('Mon, 1 Jan 05 10:00:00 +0000').year == 2005


def test_an_impossible_date_is_said():
    parsed = parse_message(message('Date: Mon, 1 Jan 0 10:00:00 +0000', 'From: a@x.example'))
    assert parsed.date is None and 'date could not be read' in parsed.parse_error


@pytest.mark.parametrize('data, expected', [
    ('Grüße'.encode('utf-16-be'), 'Grüße'),
    (b'\xfe\xff' + 'Grüße'.encode('utf-16-be'), 'Grüße'),
    (b'\xff\xfe' + 'Grüße'.encode('utf-16-le'), 'Grüße'),
    ('Grüße'.encode('utf-16-le'), 'Grüße'),          # plainly little-endian: not garbage
    ('日本語'.encode('utf-16-be'), '日本語'),
    ('Grüße'.encode('utf-32-be'), 'Grüße'),
])
def test_utf16_without_bom_is_big_endian(data, expected):
    charset = 'utf-32' if len(data) % 4 == 0 and data[:2] == b'\x00\x00' else 'utf-16'
    assert decode_bytes(data, charset) == expected


def test_broken_iso_2022_jp_is_decoded_as_far_as_it_goes():
    good = 'こんにちは'.encode('iso2022_jp')
    broken = good[:-3]          # the closing escape and part of a character cut off
    text = decode_bytes(broken, 'iso-2022-jp')
    assert text.startswith('こんにち') and '\x1b' not in text and '$' not in text
    subject = '=?iso-2022-jp?B?%s?=' % base64.b64encode(broken).decode()
    assert parse_message(message('Subject: ' + subject)).subject.startswith('こんにち')


def test_deep_html_is_flagged():
    deep = '<div>' * (MAX_HTML_DEPTH + 20) + 'deep' + '</div>' * (MAX_HTML_DEPTH + 20)
    parsed = parse_message(message('From: a@x.example', entity=leaf('text/html', deep)))
    assert 'nested more than' in parsed.parse_error
    shallow = parse_message(message('From: a@x.example', entity=leaf('text/html', '<p><b>x</b><br></p>')))
    assert shallow.parse_error is None


@pytest.mark.parametrize('content_id, reference', [
    ('<logo@x>', 'cid:logo@x'),
    ('<Logo@X>', 'cid:logo@x'),
    ('<logo@x>', 'cid:LOGO@X'),
    ('< logo@x >', 'cid:logo@x'),
    ('<my logo@x>', 'cid:my%20logo@x'),
    ('<a%b@x>', 'cid:a%25b@x'),
])
def test_inline_images_match_their_cid_as_rfc_2392_says(content_id, reference):
    raw = message('From: a@x.example', entity=multipart(
        'related', leaf('text/html', '<img src="%s">' % reference),
        leaf('image/png', 'PNG', 'Content-ID: ' + content_id)))
    parsed = parse_message(raw)
    assert [a.is_inline for a in parsed.attachments] == [True]
    assert content_id_key(parsed.attachments[0].content_id) == content_id_key(reference[4:])


# -- same Message-ID, different email --------------------------------------------------

def test_content_key_tells_copies_from_impostors():
    body = leaf('text/plain; charset=utf-8', 'Our offer')
    original = message('From: me@x.example', 'To: you@y.example', 'Subject: Offer',
                       'Date: Tue, 24 Nov 2026 09:30:00 +0000', 'Message-ID: <m1@x.example>', entity=body)
    relayed = b'Received: from relay\r\nDKIM-Signature: v=1\r\n' + original
    impostor = original.replace(b'Our offer', b'Pay here')
    keys = [parse_message(raw).content_key for raw in (original, relayed, impostor)]
    assert keys[0] == keys[1] != keys[2]
