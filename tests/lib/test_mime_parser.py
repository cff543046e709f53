"""What the CRM reads out of a raw mail: tables a salesperson could check.

Each row is one mail as it arrives over IMAP and what the user then sees:
the subject, the names, the date, the body, the files.
"""
import base64
import datetime
import email
import hashlib
import random

import pytest

from email_crm_sync.lib.mime_parser import Address, parse_message

CRLF = b'\r\n'


# -- building raw mail ---------------------------------------------------------------

def _bytes(value):
    return value.encode('utf-8') if isinstance(value, str) else value


def leaf(content_type, payload=b'', *headers, cte=None):
    """One MIME part: its headers, a blank line, its (already encoded) payload."""
    lines = [b'Content-Type: ' + _bytes(content_type)]
    if cte:
        lines.append(b'Content-Transfer-Encoding: ' + _bytes(cte))
    lines += [_bytes(h) for h in headers]
    return b'\n'.join(lines) + b'\n\n' + _bytes(payload)


def multipart(subtype, *parts, boundary='=_b1'):
    boundary = _bytes(boundary)
    lines = [b'Content-Type: multipart/' + _bytes(subtype) + b'; boundary="' + boundary + b'"',
             b'', b'This is a multi-part message in MIME format.']
    for part in parts:
        lines += [b'--' + boundary, part]
    lines.append(b'--' + boundary + b'--')
    return b'\n'.join(lines) + b'\n'


def message(*headers, entity=None, eol=CRLF):
    """A whole mail with CRLF line ends (or eol): headers, then the entity."""
    if entity is None:
        entity = leaf('text/plain; charset=utf-8', 'Hello')
    head = [_bytes(h) for h in headers]
    raw = b'\n'.join(head + [b'MIME-Version: 1.0', entity])
    return raw.replace(b'\r\n', b'\n').replace(b'\n', eol)


def b_word(text, charset):
    return '=?%s?B?%s?=' % (charset, base64.b64encode(text.encode(charset)).decode('ascii'))


def q_word(text, charset):
    encoded = ''.join(chr(b) if 48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122
                      else '_' if b == 32 else '=%02X' % b for b in text.encode(charset))
    return '=?%s?Q?%s?=' % (charset, encoded)


def b64(data):
    return base64.encodebytes(data).decode('ascii')


PDF = (b'%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
       b'2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')
PNG = bytes.fromhex('89504e470d0a1a0a0000000d4948445200000001000000010806000000'
                    '1f15c4890000000d49444154789c63f8cfc0f01f0005000201a1f0f9a20000000049454e44ae426082')
ICS = (b'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n'
       b'SUMMARY:Demo call\r\nDTSTART:20240312T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n')


def subject_of(header_value):
    return parse_message(message(b'Subject: ' + _bytes(header_value))).subject


# -- subjects ------------------------------------------------------------------------

SUBJECTS = [
    # (what the mailer wrote, what the user reads)
    ('Quote for 250 valves', 'Quote for 250 valves'),
    (b_word('Angebot für Müller', 'utf-8'), 'Angebot für Müller'),
    ('=?utf-8?q?Caf=C3=A9_cr=C3=A8me?=', 'Café crème'),
    (q_word('Réunion demain à 10h', 'iso-8859-1'), 'Réunion demain à 10h'),
    ('=?windows-1252?Q?Preis_=80_100_=93best=94?=', 'Preis € 100 “best”'),
    # windows-1252 text labelled iso-8859-1: the euro sign is still a euro sign
    ('=?iso-8859-1?Q?Rabatt_=80_5?=', 'Rabatt € 5'),
    (b_word('御見積書の送付', 'iso-2022-jp'), '御見積書の送付'),
    (b_word('会议安排', 'gb2312'), '会议安排'),
    # a GBK character labelled gb2312 (read as GB18030, its superset)
    ('=?gb2312?B?%s?=' % base64.b64encode('朱镕基'.encode('gbk')).decode(), '朱镕基'),
    (b_word('Счёт на оплату', 'koi8-r'), 'Счёт на оплату'),
    ('=?ks_c_5601-1987?B?%s?=' % base64.b64encode('견적서'.encode('cp949')).decode(), '견적서'),
    # raw UTF-8 in the header (RFC 6532) and raw Latin-1 from old mailers
    (b'Angebot f\xc3\xbcr M\xc3\xbcller', 'Angebot für Müller'),
    (b'R\xe9union budget', 'Réunion budget'),
    # lower-case b and q, encoded word next to plain text
    ('=?utf-8?b?w4ljb2xl?= partenaire', 'École partenaire'),
    ('Re: =?utf-8?q?=C3=9Cbersicht?= Q3', 'Re: Übersicht Q3'),
    # the blank between two encoded words is not part of the text
    ('=?utf-8?q?Hello?= =?utf-8?q?World?=', 'HelloWorld'),
    ('=?utf-8?q?Hello_?= =?utf-8?q?World?=', 'Hello World'),
    # a long subject folded over lines, "ö" cut in half between two words
    (b'=?UTF-8?B?R3LD?=\r\n =?UTF-8?B?tsOfZQ==?= und Gewicht', 'Größe und Gewicht'),
    (b'Quote\r\n\tfor    March', 'Quote for March'),
    # unknown charset label: the bytes are guessed (UTF-8 here)
    ('=?x-unknown?Q?Caf=C3=A9?=', 'Café'),
    # not an encoded word: left as written
    ('=?utf-8?Q?broken', '=?utf-8?Q?broken'),
]


@pytest.mark.parametrize('written, shown', SUBJECTS, ids=[s for _, s in SUBJECTS])
def test_subject_is_shown_decoded(written, shown):
    assert subject_of(written) == shown


def test_no_subject_is_an_empty_subject():
    assert parse_message(message('From: a@example.com')).subject == ''


# -- addresses -----------------------------------------------------------------------

ADDRESSES = [
    ('Jane Doe <Jane.Doe@Example.COM>', [('Jane Doe', 'jane.doe@example.com')]),
    ('"Doe, Jane" <jane@example.com>, "O\'Brien, Pat" <pat@example.org>',
     [('Doe, Jane', 'jane@example.com'), ("O'Brien, Pat", 'pat@example.org')]),
    # Outlook-style unquoted comma
    ('Doe, Jane <jane@example.com>', [('Doe, Jane', 'jane@example.com')]),
    ('"Jane \\"JD\\" Doe" <jane@example.com>', [('Jane "JD" Doe', 'jane@example.com')]),
    ("'Single Quoted' <s@example.com>", [('Single Quoted', 's@example.com')]),
    ('=?UTF-8?Q?Ren=C3=A9e_M=C3=BCller?= <renee@example.de>', [('Renée Müller', 'renee@example.de')]),
    ('"%s" <renee@example.de>' % b_word('Müller, Renée', 'utf-8'),
     [('Müller, Renée', 'renee@example.de')]),
    (b'J\xc3\xbcrgen Stra\xc3\x9fe <juergen@example.de>', [('Jürgen Straße', 'juergen@example.de')]),
    ('%s <li@example.cn>' % b_word('李明', 'gb2312'), [('李明', 'li@example.cn')]),
    ('bob@example.com (Bob Smith)', [('Bob Smith', 'bob@example.com')]),
    ('<  Spaced@Example.com >', [('', 'spaced@example.com')]),
    ('undisclosed-recipients:;', []),
    ('Sales team: anna@example.com, "Ben" <ben@example.com>;',
     [('', 'anna@example.com'), ('Ben', 'ben@example.com')]),
    ('not-an-address, <>, real@example.com', [('', 'real@example.com')]),
    # the same person twice: once, with the name
    ('anna@example.com, Anna Berg <ANNA@example.com>', [('Anna Berg', 'anna@example.com')]),
    ('info@xn--mller-kva.de', [('', 'info@müller.de')]),
]


@pytest.mark.parametrize('written, shown', ADDRESSES, ids=[repr(w)[:40] for w, _ in ADDRESSES])
def test_recipients_are_names_and_lower_case_addresses(written, shown):
    parsed = parse_message(message(b'To: ' + _bytes(written)))
    assert [(a.name, a.email) for a in parsed.to] == shown


def test_every_address_header_is_read_and_the_sender_is_the_first_from():
    parsed = parse_message(message(
        'From: Anna Berg <anna@acme.example>', 'To: bob@client.example',
        'To: Carl <carl@client.example>', 'Cc: Dora <dora@client.example>',
        'Bcc: boss@acme.example', 'Reply-To: Sales <sales@acme.example>'))
    assert parsed.from_ == (Address('Anna Berg', 'anna@acme.example'),)
    assert parsed.sender == Address('Anna Berg', 'anna@acme.example')
    assert parsed.to == (Address('', 'bob@client.example'), Address('Carl', 'carl@client.example'))
    assert parsed.cc == (Address('Dora', 'dora@client.example'),)
    assert parsed.bcc == (Address('', 'boss@acme.example'),)
    assert parsed.reply_to == (Address('Sales', 'sales@acme.example'),)


def test_without_from_there_is_no_sender():
    parsed = parse_message(message('To: bob@client.example'))
    assert parsed.from_ == () and parsed.sender is None


# -- dates -----------------------------------------------------------------------------

DATES = [
    ('Mon, 3 Feb 2020 10:00:00 +0100', datetime.datetime(2020, 2, 3, 9, 0)),
    ('Mon, 3 Feb 2020 10:00:00 EST', datetime.datetime(2020, 2, 3, 15, 0)),
    ('Mon, 3 Feb 2020 10:00:00 +1345', datetime.datetime(2020, 2, 2, 20, 15)),   # Chatham Islands
    ('Mon, 3 Feb 2020 10:00:00 -0000', datetime.datetime(2020, 2, 3, 10, 0)),
    ('Mon, 3 Feb 2020 10:00:00', datetime.datetime(2020, 2, 3, 10, 0)),           # no zone: UTC
    ('Mon, 3 Feb 2020 10:00:00 +0530 (IST)', datetime.datetime(2020, 2, 3, 4, 30)),
    ('Mon, 3 Feb 2020 10:00:00 CEST', datetime.datetime(2020, 2, 3, 8, 0)),
    ('3 Feb 20 10:00 GMT', datetime.datetime(2020, 2, 3, 10, 0)),                  # two-digit year
    ('Wed, 3 Feb 99 10:00:00 +0000', datetime.datetime(1999, 2, 3, 10, 0)),
    ('2020-02-03T10:00:00+02:00', datetime.datetime(2020, 2, 3, 8, 0)),
    ('next Tuesday', None),
    ('Mon, 32 Feb 2020 10:00:00 +0000', None),
    ('', None),
]


@pytest.mark.parametrize('written, utc', DATES, ids=[d for d, _ in DATES])
def test_date_is_naive_utc(written, utc):
    assert parse_message(message('Date: ' + written)).date == utc


def test_no_date_header_means_no_date():
    assert parse_message(message('Subject: x')).date is None


# -- message ids and threading headers -------------------------------------------------

def test_message_id_is_stored_without_brackets():
    parsed = parse_message(message('Message-ID:   <Abc.123@mail.example.com>  (sent by us)'))
    assert parsed.message_id == 'Abc.123@mail.example.com'
    assert parsed.has_message_id is True


def test_message_id_without_brackets_is_accepted():
    assert parse_message(message('Message-ID: abc.123@mail.example.com')).message_id == \
        'abc.123@mail.example.com'


@pytest.mark.parametrize('header', ['Subject: no id', 'Message-ID:', 'Message-ID:   '])
def test_missing_message_id_gets_a_synthetic_id_stable_for_the_same_bytes(header):
    raw = message(header)
    first, again = parse_message(raw), parse_message(raw)
    assert first.has_message_id is False
    assert first.message_id == again.message_id
    assert first.message_id == 'synthetic-%s@email-crm-sync.invalid' % first.content_hash[:32]
    other = parse_message(message(header, entity=leaf('text/plain', 'Another body')))
    assert other.message_id != first.message_id


REFERENCES = [
    ('<a@x.example> <b@x.example>\r\n <c@x.example>', ('a@x.example', 'b@x.example', 'c@x.example')),
    ('<a@x.example>,<b@x.example>, <a@x.example>', ('a@x.example', 'b@x.example')),
    ('garbage <a@x.example> more garbage', ('a@x.example',)),
    ('a@x.example b@x.example', ('a@x.example', 'b@x.example')),      # brackets forgotten
    ('a@x.example,b@x.example', ('a@x.example', 'b@x.example')),
    ('< a@x.example >', ('a@x.example',)),
    ('(no ids here)', ()),
    ('', ()),
]


@pytest.mark.parametrize('written, ids', REFERENCES, ids=[w[:30] or 'empty' for w, _ in REFERENCES])
def test_references_are_ids_in_order_each_once(written, ids):
    assert parse_message(message('References: ' + written)).references == ids


def test_in_reply_to_ignores_the_words_around_the_id():
    raw = message("In-Reply-To: <a@x.example> (Jane Doe's message of Mon, 3 Feb, jane@x.example)")
    assert parse_message(raw).in_reply_to == ('a@x.example',)


# -- bodies ------------------------------------------------------------------------------

def test_plain_text_mail_has_text_and_no_html():
    parsed = parse_message(message(entity=leaf('text/plain; charset=utf-8', 'Hello Anna,\n\nsee you.\n')))
    assert parsed.text_body == 'Hello Anna,\n\nsee you.\n'
    assert parsed.html_body == ''
    assert parsed.attachments == ()
    assert parsed.parse_error is None


def test_html_only_mail_keeps_the_html_as_sent():
    html = '<p onclick="x()">Hi <b>Bob</b><script>evil()</script></p>'
    parsed = parse_message(message(entity=leaf('text/html; charset=utf-8', html)))
    assert parsed.html_body == html          # sanitising is Odoo's job when storing
    assert parsed.text_body == ''


def test_alternative_gives_the_text_and_the_html_version():
    entity = multipart('alternative',
                       leaf('text/plain; charset=utf-8', 'Gr=C3=BC=C3=9Fe', cte='quoted-printable'),
                       leaf('text/html; charset=utf-8', b64('<p>Grüße</p>'.encode()), cte='base64'))
    parsed = parse_message(message(entity=entity))
    assert parsed.text_body == 'Grüße'
    assert parsed.html_body == '<p>Grüße</p>'
    assert parsed.attachments == ()


def test_outlook_invitation_keeps_the_calendar_part_as_an_attachment():
    entity = multipart('alternative',
                       leaf('text/plain; charset=utf-8', 'Demo call on Tuesday'),
                       leaf('text/html; charset=utf-8', '<p>Demo call on Tuesday</p>'),
                       leaf('text/calendar; charset=utf-8; method=REQUEST', b64(ICS), cte='base64'))
    parsed = parse_message(message(entity=entity))
    assert parsed.text_body == 'Demo call on Tuesday'
    assert parsed.html_body == '<p>Demo call on Tuesday</p>'
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == \
        [('attachment-1.ics', 'text/calendar', ICS)]


def test_related_keeps_the_logo_shown_in_the_html_as_an_inline_image():
    html = '<p><img src="cid:logo@acme.example"> Welcome</p>'
    entity = multipart('alternative',
                       leaf('text/plain', 'Welcome'),
                       multipart('related',
                                 leaf('text/html; charset=utf-8', html),
                                 leaf('image/png', b64(PNG), 'Content-ID: <logo@acme.example>',
                                      'Content-Disposition: inline; filename="logo.png"', cte='base64'),
                                 leaf('image/png', b64(PNG), 'Content-ID: <unused@acme.example>',
                                      cte='base64'),
                                 boundary='=_rel'),
                       boundary='=_alt')
    parsed = parse_message(message(entity=entity))
    assert parsed.text_body == 'Welcome'
    assert parsed.html_body == html
    assert [(a.filename, a.content_id, a.is_inline, a.size, a.content) for a in parsed.attachments] == [
        ('logo.png', 'logo@acme.example', True, len(PNG), PNG),
        ('attachment-2.png', 'unused@acme.example', False, len(PNG), PNG),  # not shown: a file
    ]


def test_mixed_with_pdf_and_invitation():
    entity = multipart('mixed',
                       leaf('text/plain; charset=utf-8', 'Please find our quote attached.'),
                       leaf('application/pdf; name="Quote SO-1234.pdf"', b64(PDF),
                            'Content-Disposition: attachment; filename="Quote SO-1234.pdf"',
                            cte='base64'),
                       leaf('text/calendar; method=REQUEST; name="invite.ics"', b64(ICS),
                            'Content-Disposition: attachment; filename="invite.ics"', cte='base64'))
    parsed = parse_message(message(entity=entity))
    assert parsed.text_body == 'Please find our quote attached.'
    assert [(a.filename, a.content_type, a.size, a.content, a.is_inline) for a in parsed.attachments] == [
        ('Quote SO-1234.pdf', 'application/pdf', len(PDF), PDF, False),
        ('invite.ics', 'text/calendar', len(ICS), ICS, False),
    ]


def test_nested_structure_from_a_mail_client():
    # mixed( alternative( text, related( html, image ) ), pdf )
    entity = multipart(
        'mixed',
        multipart('alternative',
                  leaf('text/plain; charset=iso-8859-1', 'Pr=E9sentation jointe.', cte='quoted-printable'),
                  multipart('related',
                            leaf('text/html; charset=utf-8', '<p>Présentation <img src="cid:sig"></p>'),
                            leaf('image/png; name=sig.png', b64(PNG), 'Content-ID: <sig>', cte='base64'),
                            boundary='=_3'),
                  boundary='=_2'),
        leaf('application/pdf', b64(PDF), 'Content-Disposition: attachment; filename=deck.pdf',
             cte='base64'),
        boundary='=_1')
    parsed = parse_message(message(entity=entity))
    assert parsed.text_body == 'Présentation jointe.'
    assert parsed.html_body == '<p>Présentation <img src="cid:sig"></p>'
    assert [(a.filename, a.is_inline) for a in parsed.attachments] == [('sig.png', True), ('deck.pdf', False)]


def test_several_text_parts_are_read_one_after_the_other():
    entity = multipart('mixed',
                       leaf('text/plain; charset=utf-8', 'First part.\n'),
                       leaf('application/pdf', b64(PDF), 'Content-Disposition: attachment; filename=a.pdf',
                            cte='base64'),
                       leaf('text/plain; charset=utf-8', '-- \nMailing list footer\n'))
    parsed = parse_message(message(entity=entity))
    assert parsed.text_body == 'First part.\n\n-- \nMailing list footer\n'
    assert [a.filename for a in parsed.attachments] == ['a.pdf']


def test_a_text_footer_under_an_html_mail_is_shown_in_the_html_too():
    entity = multipart('mixed',
                       leaf('text/html; charset=utf-8', '<p>News</p>'),
                       leaf('text/plain; charset=utf-8', 'Unsubscribe: <https://x.example/u>'))
    parsed = parse_message(message(entity=entity))
    assert parsed.html_body == ('<p>News</p>\n<div style="white-space: pre-wrap">'
                                'Unsubscribe: &lt;https://x.example/u&gt;</div>')


def test_a_text_file_is_an_attachment_not_the_body():
    entity = multipart('mixed',
                       leaf('text/plain', 'See the notes.'),
                       leaf('text/plain; name="notes.txt"', 'line 1\nline 2\n',
                            'Content-Disposition: inline; filename="notes.txt"'))
    parsed = parse_message(message(entity=entity))
    assert parsed.text_body == 'See the notes.'
    assert [(a.filename, a.content) for a in parsed.attachments] == [('notes.txt', b'line 1\r\nline 2\r\n')]


def test_a_mail_that_is_just_a_pdf():
    entity = leaf('application/pdf', b64(PDF), 'Content-Disposition: attachment', cte='base64')
    parsed = parse_message(message(entity=entity))
    assert (parsed.text_body, parsed.html_body) == ('', '')
    assert [(a.filename, a.content) for a in parsed.attachments] == [('attachment-1.pdf', PDF)]


BODY_CHARSETS = [
    # (declared charset, bytes in the mail, text the user reads)
    ('utf-8', 'Grüße aus Köln'.encode('utf-8'), 'Grüße aus Köln'),
    ('utf8', 'Grüße'.encode('utf-8'), 'Grüße'),
    ('"UTF-8"', 'Grüße'.encode('utf-8'), 'Grüße'),
    ('x-unknown', 'Café'.encode('utf-8'), 'Café'),
    ('x-unknown', 'Café'.encode('cp1252'), 'Café'),
    ('iso-8859-1', b'Preis: 100 \x80 \x93netto\x94', 'Preis: 100 € “netto”'),
    ('us-ascii', 'Café'.encode('utf-8'), 'Café'),           # mislabelled UTF-8
    ('utf-8', 'Café à'.encode('cp1252'), 'Café à'),         # mislabelled Windows-1252
    ('gb2312', '关于朱镕基的报告'.encode('gbk'), '关于朱镕基的报告'),
    ('ks_c_5601-1987', '견적서를 보내드립니다'.encode('cp949'), '견적서를 보내드립니다'),
    ('koi8-r', 'Счёт на оплату'.encode('koi8-r'), 'Счёт на оплату'),
    ('iso-2022-jp', 'お世話になっております'.encode('iso-2022-jp'), 'お世話になっております'),
    ('shift_jis', '①番の件'.encode('cp932'), '①番の件'),
    ('windows-1251', 'Привет'.encode('cp1251'), 'Привет'),
    ('base64', 'Café'.encode('utf-8'), 'Café'),             # a codec, but not a charset
    ('utf-8', 'Grüße '.encode('utf-8') + b'\xe9t\xe9', 'Grüße été'),  # one stray Latin-1 word
]


@pytest.mark.parametrize('charset, data, text', BODY_CHARSETS,
                         ids=['%s-%s' % (c, t[:8]) for c, _, t in BODY_CHARSETS])
def test_body_text_is_decoded_whatever_the_charset_label(charset, data, text):
    parsed = parse_message(message(entity=leaf('text/plain; charset=' + charset, b64(data), cte='base64')))
    assert parsed.text_body == text
    assert parsed.parse_error is None


def test_body_line_ends_are_plain_newlines():
    parsed = parse_message(message(entity=leaf('text/plain', 'one\ntwo\n')))
    assert parsed.text_body == 'one\ntwo\n'


def test_nul_bytes_never_reach_the_database():
    parsed = parse_message(message('Subject: a\x00b', entity=leaf('text/plain', 'x\x00y')))
    assert (parsed.subject, parsed.text_body) == ('ab', 'xy')


# -- attachment names --------------------------------------------------------------------

FILENAMES = [
    ('attachment; filename="Quote.pdf"', 'Quote.pdf'),
    ("attachment; filename*=UTF-8''na%C3%AFve.pdf", 'naïve.pdf'),
    ("attachment; filename*0*=UTF-8''Auftragsbest%C3%A4tigung%20;\n filename*1*=SO-12.pdf",
     'Auftragsbestätigung SO-12.pdf'),
    ('attachment; filename*0="very long file name ";\n filename*1="part two.pdf"',
     'very long file name part two.pdf'),
    ("attachment; filename*=iso-8859-1'fr'R%E9sum%E9.pdf", 'Résumé.pdf'),
    ('attachment; filename="%s"' % b_word('御見積書.pdf', 'utf-8'), '御見積書.pdf'),
    (b'attachment; filename="Bestellbest\xc3\xa4tigung.pdf"', 'Bestellbestätigung.pdf'),
    # filename* wins over the plain fallback (RFC 6266)
    ("attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%E2%82%AC-Preise.pdf", '€-Preise.pdf'),
    # folders are not part of the name
    ('attachment; filename="C:\\\\Users\\\\anna\\\\report.pdf"', 'report.pdf'),
    ('attachment; filename="../../etc/passwd"', 'passwd'),
    ('attachment', 'attachment-1.pdf'),
]


@pytest.mark.parametrize('disposition, filename', FILENAMES, ids=[f for _, f in FILENAMES])
def test_attachment_file_name(disposition, filename):
    entity = leaf('application/pdf', b64(PDF), b'Content-Disposition: ' + _bytes(disposition), cte='base64')
    parsed = parse_message(message(entity=entity))
    assert [a.filename for a in parsed.attachments] == [filename]


def test_name_from_the_content_type_when_the_disposition_has_none():
    entity = leaf('application/pdf; name="%s"' % b_word('Facture n°12.pdf', 'iso-8859-1'), b64(PDF),
                  cte='base64')
    assert parse_message(message(entity=entity)).attachments[0].filename == 'Facture n°12.pdf'


def test_a_file_sent_as_octet_stream_gets_the_type_its_name_says():
    entity = leaf('application/octet-stream; name="Offer.pdf"', b64(PDF), cte='base64')
    [attachment] = parse_message(message(entity=entity)).attachments
    assert (attachment.filename, attachment.content_type) == ('Offer.pdf', 'application/pdf')


# -- attachment size limit --------------------------------------------------------------

@pytest.mark.parametrize('file_size, stored', [(2999, True), (3000, True), (3001, False), (500000, False)])
def test_files_over_the_limit_keep_name_and_size_but_not_content(file_size, stored):
    data = bytes(range(256)) * (file_size // 256) + bytes(range(file_size % 256))
    entity = multipart('mixed',
                       leaf('text/plain', 'Big file attached'),
                       leaf('application/zip', b64(data),
                            'Content-Disposition: attachment; filename="big.zip"', cte='base64'))
    parsed = parse_message(message(entity=entity), max_attachment_bytes=3000)
    [attachment] = parsed.attachments
    assert (attachment.filename, attachment.size) == ('big.zip', file_size)
    assert attachment.content == (data if stored else None)
    assert parsed.text_body == 'Big file attached'


# -- forwarded mail ------------------------------------------------------------------------

def test_forwarded_mail_is_an_eml_attachment():
    inner = message('From: Carl <carl@supplier.example>', 'Subject: Price list 2024',
                    'Message-ID: <inner@supplier.example>',
                    entity=leaf('text/plain', 'Prices attached.'))
    entity = multipart('mixed',
                       leaf('text/plain', 'FYI, see below.'),
                       leaf('message/rfc822', inner, 'Content-Disposition: inline'))
    parsed = parse_message(message('Message-ID: <outer@acme.example>', entity=entity))
    assert parsed.message_id == 'outer@acme.example'
    assert parsed.text_body == 'FYI, see below.'
    [eml] = parsed.attachments
    assert (eml.filename, eml.content_type) == ('Price list 2024.eml', 'message/rfc822')
    assert eml.size == len(eml.content)
    again = parse_message(eml.content)
    assert (again.subject, again.message_id, again.text_body) == \
        ('Price list 2024', 'inner@supplier.example', 'Prices attached.')


def test_forwarded_mail_without_subject_gets_a_generated_name():
    entity = multipart('mixed', leaf('text/plain', 'See below.'),
                       leaf('message/rfc822', message('From: x@y.example')))
    assert [a.filename for a in parse_message(message(entity=entity)).attachments] == ['attachment-1.eml']


# -- broken and unusual mail ---------------------------------------------------------------

def test_broken_base64_body_gives_what_can_be_read_and_says_so():
    good = base64.b64encode('Hello Anna, the quote is ready.'.encode()).decode()
    parsed = parse_message(message(entity=leaf('text/plain; charset=utf-8', good[:24] + '!!**' + good[24:-3],
                                               cte='base64')))
    assert parsed.text_body.startswith('Hello Anna, the quote')
    assert 'base64' in parsed.parse_error


def test_broken_quoted_printable_body_keeps_the_broken_sequence():
    parsed = parse_message(message(entity=leaf('text/plain; charset=utf-8', 'Caf=C3=A9 costs =ZZ 5',
                                               cte='quoted-printable')))
    assert parsed.text_body == 'Café costs =ZZ 5'
    assert 'quoted-printable' in parsed.parse_error


def test_multipart_without_its_boundary_still_shows_the_text():
    raw = message(entity=b'Content-Type: multipart/mixed; boundary="missing"\n\nJust some text\n')
    parsed = parse_message(raw)
    assert 'Just some text' in parsed.text_body
    assert 'boundary' in parsed.parse_error


def test_a_mail_with_only_headers():
    raw = b'From: anna@acme.example\r\nSubject: Call me\r\nMessage-ID: <h@acme.example>'
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.message_id, parsed.text_body) == ('Call me', 'h@acme.example', '')
    assert parsed.parse_error is None
    assert parsed.headers_text == 'From: anna@acme.example\nSubject: Call me\nMessage-ID: <h@acme.example>'


def test_empty_input():
    parsed = parse_message(b'')
    assert parsed.parse_error == 'the message is empty'
    assert parsed.size == 0 and parsed.has_message_id is False
    assert parsed.message_id.startswith('synthetic-') and parsed.subject == ''


def test_binary_garbage_is_returned_not_raised():
    garbage = bytes(random.Random(7).randrange(256) for _ in range(5000))
    parsed = parse_message(b'\x89PNG\r\n\x1a\n\x00\x00' + garbage)
    assert parsed.parse_error == 'no mail headers were found'
    assert parsed.size == 5010 and not parsed.has_message_id
    assert '\x00' not in parsed.text_body


def test_very_long_header_lines():
    ids = ['<m%d@x.example>' % i for i in range(400)]
    parsed = parse_message(message('Subject: ' + 'Long ' * 3000, 'References: ' + ' '.join(ids),
                                   'To: ' + ', '.join('p%d@x.example' % i for i in range(500))))
    assert parsed.subject == ('Long ' * 3000).strip()
    assert len(parsed.references) == 400 and parsed.references[-1] == 'm399@x.example'
    assert len(parsed.to) == 500


def test_bare_lf_line_ends():
    entity = multipart('alternative', leaf('text/plain', 'Line one\nLine two\n'),
                       leaf('text/html', '<p>Line one</p>'))
    raw = message('Subject: Unix mailer', 'From: a@b.example', entity=entity, eol=b'\n')
    assert b'\r' not in raw
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.text_body, parsed.html_body) == \
        ('Unix mailer', 'Line one\nLine two\n', '<p>Line one</p>')
    assert parsed.sender.email == 'a@b.example'


def test_headers_text_content_hash_and_size():
    raw = message('Subject: =?utf-8?q?Caf=C3=A9?=', b'From: J\xc3\xbcrgen <j@x.example>')
    parsed = parse_message(raw)
    assert parsed.headers_text == ('Subject: =?utf-8?q?Caf=C3=A9?=\nFrom: Jürgen <j@x.example>\n'
                                   'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n')
    assert parsed.size == len(raw)
    assert len(parsed.content_hash) == 64 and parsed.content_hash == hashlib.sha256(raw).hexdigest()


def _mutations(count):
    """Demo-like mails with bytes flipped, cut and doubled: a parser must survive them."""
    rng = random.Random(42)
    base = message('From: "Doe, Jane" <jane@x.example>', 'Subject: %s' % b_word('Grüße', 'utf-8'),
                   'Date: Mon, 3 Feb 2020 10:00:00 +0100', 'Message-ID: <m@x.example>',
                   entity=multipart('mixed',
                                    multipart('alternative', leaf('text/plain', 'Hi'),
                                              leaf('text/html', '<p>Hi</p>'), boundary='=_a'),
                                    leaf('application/pdf', b64(PDF), cte='base64'),
                                    leaf('message/rfc822', message('Subject: in')), boundary='=_m'))
    for _ in range(count):
        raw = bytearray(base)
        for _ in range(rng.randint(1, 20)):
            position = rng.randrange(len(raw))
            action = rng.randrange(3)
            if action == 0:
                raw[position] = rng.randrange(256)
            elif action == 1:
                del raw[position:position + rng.randint(1, 50)]
            else:
                raw[position:position] = raw[position:position + rng.randint(1, 80)]
        yield bytes(raw)


def test_damaged_mail_never_raises():
    for raw in _mutations(300):
        parsed = parse_message(raw)
        assert parsed.size == len(raw) and parsed.message_id


def test_deeply_nested_parts_never_raise():
    entity = leaf('text/plain', 'deep')
    for level in range(60):
        entity = multipart('mixed', entity, boundary='=_%d' % level)
    parsed = parse_message(message(entity=entity))
    assert parsed.parse_error == 'parts nested too deeply were skipped'


def test_absurdly_nested_mail_keeps_its_headers():
    entity = leaf('text/plain', 'deep')
    for level in range(3000):
        entity = multipart('mixed', entity, boundary='=_%d' % level)
    parsed = parse_message(message('Subject: Matryoshka', 'Message-ID: <deep@x.example>', entity=entity))
    assert (parsed.subject, parsed.message_id) == ('Matryoshka', 'deep@x.example')
    assert parsed.parse_error == 'the parts of the message could not be read, only its headers'


def test_text_instead_of_bytes_is_read_too():
    parsed = parse_message('Subject: Grüße\r\n\r\nHallo')
    assert (parsed.subject, parsed.text_body) == ('Grüße', 'Hallo')


# -- newsletters and robots ------------------------------------------------------------------

AUTOMATIC = [
    ('Auto-Submitted: auto-replied', True),
    ('Auto-Submitted: auto-generated; type=calendar', True),
    ('Auto-Submitted: no', False),
    ('Precedence: bulk', True),
    ('Precedence: list', True),
    ('Precedence: junk', True),
    ('Precedence: first-class', False),
    ('List-Unsubscribe: <https://news.example/u?x=1>, <mailto:u@news.example>', True),
    ('X-Mailer: Outlook', False),
]


@pytest.mark.parametrize('header, automatic', AUTOMATIC, ids=[h for h, _ in AUTOMATIC])
def test_robot_and_newsletter_mail_is_recognised(header, automatic):
    assert parse_message(message(header)).is_auto_generated is automatic


def test_list_id_is_the_identifier_of_the_list():
    parsed = parse_message(message('List-Id: "Weekly News" <Weekly.News.Example.COM>'))
    assert parsed.list_id == 'weekly.news.example.com'
    assert parse_message(message('Subject: x')).list_id == ''


# -- the demo mail the dev setup generates ----------------------------------------------------

def test_demo_mail_parses_cleanly():
    from devenv.demo_mail import generate_messages
    for demo in generate_messages(150, seed=3):
        parsed = parse_message(demo.raw)
        assert parsed.parse_error is None
        assert parsed.message_id == demo.message_id.strip('<>')
        assert parsed.date == demo.date.replace(tzinfo=None)
        assert parsed.text_body and parsed.sender
        assert all(a.content is not None and a.size == len(a.content) for a in parsed.attachments)
        original = email.message_from_bytes(demo.raw)
        assert parsed.is_auto_generated == ('List-Unsubscribe' in original)
