"""Fuzzing the MIME parser and the address rules with Hypothesis.

Whatever bytes arrive, the parser returns (never raises), and everything it
returns can be stored: no lone surrogate, no NUL, indexed values bounded.
The address rules never raise and give addresses that normalise to
themselves. Each property runs a fixed number of examples with a fixed
seed (derandomize), so a run takes seconds and a failure repeats.
"""
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from email_crm_sync.lib import address_list, address_rules, safe_text, subject_key
from email_crm_sync.lib.mime_parser import decode_bytes, decode_header_text, parse_date, parse_message

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def _storable(value):
    if isinstance(value, str):
        value.encode('utf-8')
        assert '\x00' not in value
    return True


def _assert_storable(parsed):
    texts = [parsed.message_id, parsed.subject, parsed.text_body, parsed.html_body,
             parsed.headers_text, parsed.parse_error or '', parsed.list_id, parsed.content_key]
    texts += list(parsed.in_reply_to) + list(parsed.references)
    for address in parsed.from_ + parsed.to + parsed.cc + parsed.bcc + parsed.reply_to:
        texts += [address.name, address.email]
    for attachment in parsed.attachments:
        texts += [attachment.filename, attachment.content_type, attachment.content_id or '']
        assert safe_text.safe_mimetype(attachment.content_type) == attachment.content_type
    for text in texts:
        assert _storable(text)
    for key in (parsed.message_id,) + parsed.in_reply_to + parsed.references:
        assert len(key) <= safe_text.KEY_LIMIT


# Pieces real and hostile mail is made of, so that the fuzzer reaches deep
# into the parser rather than stopping at "no headers".
HEADER_NAMES = st.sampled_from([
    'From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'References', 'In-Reply-To',
    'Content-Type', 'Content-Transfer-Encoding', 'Content-Disposition', 'Content-ID', 'List-Id'])
CHARSETS = st.sampled_from(['utf-8', 'iso-8859-1', 'utf-16', 'iso-2022-jp', 'unicode_escape',
                            'punycode', 'idna', 'base64', 'rot13', 'x-unknown', 'utf-7', 'gb2312'])
TOKENS = st.sampled_from([
    '<', '>', '"', '(', ')', ',', ';', ':', '@', '\\', ' ', '=?', '?=', '?B?', '?Q?', 'a@b.example',
    '=?utf-8?q?caf=C3=A9?=', 'multipart/mixed; boundary="b"', '--b', '\r\n', '\n', '\x00', '\u202e',
    'text/html', 'charset=', 'filename*=', "''", '%E2%80%AE', 'cid:', '<div>', 'Jan', '0000'])
HEADER_VALUES = st.lists(st.one_of(TOKENS, st.text(max_size=12), CHARSETS), max_size=30).map(''.join)


@st.composite
def raw_messages(draw):
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=10))
    lines = [('%s: %s' % pair).encode('utf-8', 'surrogatepass') for pair in headers]
    body = draw(st.one_of(st.binary(max_size=300), HEADER_VALUES.map(
        lambda text: text.encode('utf-8', 'surrogatepass'))))
    separator = draw(st.sampled_from([b'\r\n', b'\n', b'\r']))
    return separator.join(lines) + separator * 2 + body


@FUZZ
@given(raw_messages())
def test_any_message_parses_into_storable_values(raw):
    _assert_storable(parse_message(raw))


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_parse_into_storable_values(raw):
    _assert_storable(parse_message(raw))


@FUZZ
@given(st.binary(max_size=200), st.one_of(CHARSETS, st.text(max_size=20)))
def test_any_bytes_in_any_charset_decode_to_storable_text(data, charset):
    assert _storable(decode_bytes(data, charset))


@FUZZ
@given(HEADER_VALUES)
def test_any_header_text_decodes_to_storable_text(value):
    assert _storable(decode_header_text(value))
    parse_date(value)
    key = subject_key.subject_key(value)
    assert len(key) <= safe_text.SUBJECT_KEY_LIMIT


@FUZZ
@given(HEADER_VALUES)
def test_address_lists_split_without_raising(value):
    for name, address in address_list.split_addresses(value):
        assert isinstance(name, str) and isinstance(address, str)
    assert len(address_list.split_addresses(value)) <= address_list.MAX_ENTRIES


LOCAL = st.text(alphabet=string.ascii_lowercase + string.digits + '._+-', min_size=1, max_size=20)
DOMAIN = st.from_regex(r'[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){1,2}', fullmatch=True)


@FUZZ
@given(LOCAL, DOMAIN, st.text(max_size=30))
def test_an_address_in_angle_brackets_is_the_address_whatever_the_name(local, domain, name):
    address = '%s@%s' % (local, domain)
    quoted = '"%s"' % name.replace('\\', '\\\\').replace('"', '\\"')
    pairs = address_list.split_addresses('%s <%s>' % (quoted, address))
    assert pairs == [(name, address)]
    assert address_rules.normalize(address) == address
    assert address_rules.normalize(address_rules.normalize(address)) == address


@FUZZ
@given(st.text(max_size=200), LOCAL, DOMAIN)
def test_address_rules_never_raise_and_bound_names(text, local, domain):
    address = '%s@%s' % (local, domain)
    normalised = address_rules.normalize(text)
    assert normalised == '' or address_rules.normalize(normalised) == normalised
    address_rules.parse_entries(text)
    address_rules.parse_impersonal(text)
    address_rules.drop_reason([address], [normalised], blocked=address_rules.parse_entries(text))
    name = address_rules.contact_name(text, address)
    assert 0 < len(name) <= safe_text.NAME_LIMIT
    assert not any(ch in name for ch in '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')
