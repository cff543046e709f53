"""The local mail services behave like a real mail provider would.

These start real Dovecot and SMTP relay processes (see conftest.py) and talk
to them the way the addon and a mail client do: IMAP over TLS, STARTTLS,
SMTP submission.
"""
import contextlib
import datetime
import email
import email.message
import email.policy
import email.utils
import os
import shutil
import smtplib
import ssl
import struct
import uuid
import zlib

import imapclient
import pytest
from imapclient.exceptions import LoginError

from devenv import procs
from devenv.demo_mail import generate_messages, seed_mailbox
from devenv.demo_mail_text import LANGUAGES
from devenv.dovecot import Dovecot
from devenv.smtp_relay import SmtpRelay

from .conftest import make_run_dir

REPLY_PREFIXES = tuple(lang['reply_prefix'] for lang in LANGUAGES.values())


def _header_values(client, uids, field):
    """The values of one header of the selected folder's messages uids."""
    fetched = client.fetch(uids, ['BODY.PEEK[HEADER.FIELDS (%s)]' % field])
    key = b'BODY[HEADER.FIELDS (%s)]' % field.encode()
    return {data[key].decode('ascii', 'replace').partition(':')[2].strip()
            for data in fetched.values()}


def _find_in_inbox(dovecot, login, password, message_id):
    """The message with that Message-ID in login's INBOX, parsed, or None."""
    with dovecot.imap_client(login, password) as client:
        client.select_folder('INBOX', readonly=True)
        uids = client.search(['HEADER', 'Message-ID', message_id])
        if not uids:
            return None
        raw = client.fetch(uids, ['BODY.PEEK[]'])[uids[0]][b'BODY[]']
    return email.message_from_bytes(raw, policy=email.policy.default)


# -- Dovecot: logins and TLS ---------------------------------------------------

def test_imaps_login_with_right_password(dovecot):
    client = imapclient.IMAPClient(dovecot.host, port=dovecot.imaps_port, ssl=True,
                                   ssl_context=dovecot.ssl_context(), timeout=10)
    with client:
        client.login('alice', 'alice-pass')
        assert client.select_folder('INBOX')[b'UIDVALIDITY']


def test_imaps_login_with_wrong_password_fails(dovecot):
    client = imapclient.IMAPClient(dovecot.host, port=dovecot.imaps_port, ssl=True,
                                   ssl_context=dovecot.ssl_context(), timeout=10)
    try:
        with pytest.raises(LoginError, match='AUTHENTICATIONFAILED'):
            client.login('alice', 'not-her-password')
        with pytest.raises(LoginError):
            client.login('nobody', 'alice-pass')
    finally:
        client.shutdown()


def test_imaps_certificate_verifies_for_127_0_0_1_and_localhost(dovecot):
    # The context checks the host name: the certificate must name both.
    for host in ('127.0.0.1', 'localhost'):
        client = imapclient.IMAPClient(host, port=dovecot.imaps_port, ssl=True,
                                       ssl_context=dovecot.ssl_context(), timeout=10)
        client.shutdown()


def test_starttls_on_plain_port(dovecot):
    client = imapclient.IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)
    with client:
        assert b'STARTTLS' in client.capabilities()
        client.starttls(dovecot.ssl_context())
        client.login('bob', 'bob-pass')
        assert b'STARTTLS' not in client.capabilities()
        assert client.select_folder('INBOX')[b'EXISTS'] >= 0


def test_plaintext_login_allowed_on_loopback(dovecot):
    with dovecot.imap_client('alice', 'alice-pass', tls='none') as client:
        assert client.noop()


def test_starttls_refuses_an_untrusted_certificate(dovecot):
    client = imapclient.IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False, timeout=10)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(ssl.create_default_context())  # system CAs only
    finally:
        with contextlib.suppress(OSError):  # the failed handshake closed it
            client.shutdown()


def test_capabilities_for_sync(dovecot):
    with dovecot.imap_client('alice', 'alice-pass') as client:
        caps = set(client.capabilities())
        assert {b'IDLE', b'CONDSTORE', b'QRESYNC', b'UIDPLUS', b'MOVE', b'SPECIAL-USE',
                b'MULTIAPPEND', b'ENABLE'} <= caps
        assert client.enable('QRESYNC') == [b'QRESYNC']
        assert client.select_folder('INBOX')[b'HIGHESTMODSEQ'] >= 1


def test_folders_have_special_use_flags_and_are_subscribed(dovecot):
    with dovecot.imap_client('bob', 'bob-pass') as client:
        folders = {name: set(flags) for flags, _, name in client.list_folders()}
        subscribed = {name for _, _, name in client.list_sub_folders()}
    expected = {'Sent': b'\\Sent', 'Drafts': b'\\Drafts', 'Trash': b'\\Trash',
                'Archive': b'\\Archive', 'Junk': b'\\Junk'}
    for name, flag in expected.items():
        assert flag in folders[name], (name, folders[name])
        assert name in subscribed
    assert 'INBOX' in folders


def test_user_added_while_running_can_log_in_at_once(dovecot):
    dovecot.add_user('carol', 'carol-pass')
    with dovecot.imap_client('carol', 'carol-pass') as client:
        assert client.select_folder('INBOX')[b'EXISTS'] == 0
    dovecot.add_user('carol', 'new-pass')  # same size file: must still be noticed
    with pytest.raises(LoginError):
        dovecot.imap_client('carol', 'carol-pass')
    dovecot.imap_client('carol', 'new-pass').logout()


def test_deliver_over_lmtp_lands_in_inbox(dovecot):
    message_id = '<%s@test.example>' % uuid.uuid4()
    raw = ('From: Zoë <zoe@test.example>\r\nTo: bob@localhost\r\n'
           'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: %s\r\n\r\nHallo Bob\r\n'
           % message_id).encode('utf-8')
    dovecot.deliver('bob', raw)
    msg = _find_in_inbox(dovecot, 'bob', 'bob-pass', message_id)
    assert msg is not None
    assert msg['Subject'] == 'Grüße'
    assert msg['Return-Path'] == '<zoe@test.example>'


def test_append_into_a_folder(dovecot):
    raw = b'From: a@test.example\r\nSubject: draft\r\n\r\ntext\r\n'
    when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    dovecot.append('alice', 'alice-pass', 'Drafts', raw, flags=[b'\\Draft'], date=when)
    with dovecot.imap_client('alice', 'alice-pass') as client:
        client.normalise_times = False  # keep the server's time zone
        client.select_folder('Drafts', readonly=True)
        uids = client.search(['SUBJECT', 'draft'])
        data = client.fetch(uids[-1:], ['FLAGS', 'INTERNALDATE'])[uids[-1]]
    assert b'\\Draft' in data[b'FLAGS']
    assert data[b'INTERNALDATE'] == when


# -- SMTP relay ----------------------------------------------------------------

def test_mail_sent_through_relay_appears_in_inbox(dovecot, smtp_relay):
    msg = email.message.EmailMessage()
    msg['From'] = 'Bob <bob@localhost>'
    msg['To'] = 'Alice <alice@localhost>'
    msg['Subject'] = 'Relay test – ünïcödé'
    msg['Message-ID'] = email.utils.make_msgid(domain='test.example')
    msg.set_content('Hello Alice,\n.\nA line with only a dot, above.\n')
    with smtplib.SMTP(smtp_relay.host, smtp_relay.port, timeout=10) as smtp:
        smtp.starttls(context=smtp_relay.ssl_context())
        smtp.login('bob', 'bob-pass')
        refused = smtp.send_message(msg)
    assert refused == {}
    # The relay answers 250 only once Dovecot has stored the message.
    stored = _find_in_inbox(dovecot, 'alice', 'alice-pass', msg['Message-ID'])
    assert stored is not None
    assert stored['Subject'] == 'Relay test – ünïcödé'
    # The lone dot survived SMTP and LMTP dot-stuffing.
    assert stored.get_content().splitlines() == [
        'Hello Alice,', '.', 'A line with only a dot, above.']
    assert any('devenv smtp relay' in r and 'ESMTPSA' in r for r in stored.get_all('Received'))


def test_relay_delivers_to_several_recipients_at_once(dovecot, smtp_relay):
    message_id = email.utils.make_msgid(domain='test.example')
    raw = ('From: carol@test.example\r\nTo: alice@localhost, bob@localhost\r\n'
           'Subject: both\r\nMessage-ID: %s\r\n\r\nhi\r\n' % message_id)
    with smtplib.SMTP(smtp_relay.host, smtp_relay.port, timeout=10) as smtp:
        assert smtp.sendmail('carol@test.example', ['alice@localhost', 'bob'], raw) == {}
    assert _find_in_inbox(dovecot, 'alice', 'alice-pass', message_id) is not None
    assert _find_in_inbox(dovecot, 'bob', 'bob-pass', message_id) is not None


def test_relay_rejects_unknown_recipient_at_rcpt(smtp_relay):
    with smtplib.SMTP(smtp_relay.host, smtp_relay.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail('bob@localhost')
        code, _ = smtp.rcpt('nobody@localhost')
        assert code == 550
        code, _ = smtp.rcpt('alice@elsewhere.example')
        assert code == 550
        code, _ = smtp.rcpt('alice@localhost')
        assert code == 250


def test_relay_refuses_wrong_password(smtp_relay):
    with smtplib.SMTP(smtp_relay.host, smtp_relay.port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError) as info:
            smtp.login('bob', 'wrong')
        assert info.value.smtp_code == 535


def test_relay_requiring_auth_checks_a_users_dict(dovecot):
    run_dir = make_run_dir('devenv-smtp-')
    relay = SmtpRelay(run_dir, dovecot=dovecot, users={'alice': 'smtp-secret'}, require_auth=True)
    try:
        with relay:
            with smtplib.SMTP(relay.host, relay.port, timeout=10) as smtp:
                with pytest.raises(smtplib.SMTPSenderRefused) as info:
                    smtp.sendmail('alice@localhost', ['bob@localhost'], b'Subject: x\r\n\r\nx\r\n')
                assert info.value.smtp_code == 530
            with smtplib.SMTP(relay.host, relay.port, timeout=10) as smtp:
                # AUTH LOGIN and AUTH PLAIN, over plain TCP on loopback.
                smtp.ehlo()
                smtp.user, smtp.password = 'alice', 'smtp-secret'
                assert smtp.auth('LOGIN', smtp.auth_login)[0] == 235
            with smtplib.SMTP(relay.host, relay.port, timeout=10) as smtp:
                with pytest.raises(smtplib.SMTPAuthenticationError):
                    smtp.login('alice', 'alice-pass')  # her IMAP password is not the one here
                smtp.login('alice', 'smtp-secret')
                assert smtp.sendmail('alice@localhost', ['bob@localhost'],
                                     b'Subject: authenticated\r\n\r\nx\r\n') == {}
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


# -- loopback only, and stopping for real ---------------------------------------

def _listeners(port):
    """(family, address) of every listening TCP socket on port."""
    found = []
    for family, path in (('ipv4', '/proc/net/tcp'), ('ipv6', '/proc/net/tcp6')):
        try:
            with open(path) as f:
                lines = f.readlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, port_hex = local.split(':')
            if state == '0A' and int(port_hex, 16) == port:
                found.append((family, address))
    return found


def test_services_listen_on_127_0_0_1_only(dovecot, smtp_relay):
    loopback = '0100007F'  # 127.0.0.1 as /proc/net/tcp writes it
    for port in (dovecot.imap_port, dovecot.imaps_port, dovecot.lmtp_port, smtp_relay.port):
        listeners = _listeners(port)
        assert listeners, 'nothing listens on %d' % port
        assert all(l == ('ipv4', loopback) for l in listeners), (port, listeners)


def test_stop_really_stops_dovecot_and_leaves_others_running(dovecot):
    run_dir = make_run_dir('devenv-stop-')
    try:
        other = Dovecot(os.path.join(run_dir, 'dovecot'))
        other.add_user('dave', 'dave-pass')
        with other:
            assert other.is_running()
            other.imap_client('dave', 'dave-pass').logout()
            with pytest.raises(LoginError):  # users are per instance
                other.imap_client('alice', 'alice-pass')
            pids = other.process_ids()
            assert len(pids) > 1  # the master and its children
        assert not other.is_running()
        for port in (other.imap_port, other.imaps_port, other.lmtp_port):
            assert not procs.port_open(port), port
        assert not any(procs.is_alive(pid) for pid in pids)
        leftovers = [pid for pid in map(int, filter(str.isdigit, os.listdir('/proc')))
                     if other.config_path in (procs.cmdline(pid) or '')]
        assert leftovers == []
        # The session's instance did not notice.
        dovecot.imap_client('alice', 'alice-pass').logout()
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def test_stop_really_stops_the_relay(dovecot):
    run_dir = make_run_dir('devenv-stop-')
    try:
        relay = SmtpRelay(run_dir, dovecot=dovecot).start()
        pid = relay.pid()
        assert procs.port_open(relay.port)
        relay.stop()
        assert not procs.port_open(relay.port)
        assert not procs.is_alive(pid)
        assert not os.path.exists(relay.pidfile)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


# -- demo mail ------------------------------------------------------------------

def _folder_counts(dovecot, login, password):
    with dovecot.imap_client(login, password) as client:
        return {f: client.folder_status(f, [b'MESSAGES'])[b'MESSAGES'] for f in ('INBOX', 'Sent')}


def test_seed_mailbox_fills_inbox_and_sent_once(dovecot):
    dovecot.add_user('erin', 'erin-pass')
    assert seed_mailbox(dovecot, 'erin', 'erin-pass', count=150, seed=7) == 150
    counts = _folder_counts(dovecot, 'erin', 'erin-pass')
    assert counts['INBOX'] + counts['Sent'] == 150
    assert counts['INBOX'] > 0 and counts['Sent'] > 0
    assert seed_mailbox(dovecot, 'erin', 'erin-pass', count=150, seed=7) == 0
    assert _folder_counts(dovecot, 'erin', 'erin-pass') == counts
    with dovecot.imap_client('erin', 'erin-pass') as client:
        client.select_folder('INBOX', readonly=True)
        # Flags and dates came along: some read, some answered, all in the past.
        assert client.search(['SEEN']) and client.search(['ANSWERED']) and client.search(['UNSEEN'])
        assert client.search(['SINCE', datetime.date.today() - datetime.timedelta(days=121)]) \
            == client.search()
        client.select_folder('Sent', readonly=True)
        assert client.search(['UNSEEN']) == []
        # Replies in INBOX answer mail that is in Sent: the chains are real.
        sent_ids = _header_values(client, client.search(), 'MESSAGE-ID')
        client.select_folder('INBOX', readonly=True)
        replies = client.search(['HEADER', 'In-Reply-To', '@'])
        parents = _header_values(client, replies, 'IN-REPLY-TO')
    assert parents & sent_ids


@pytest.fixture(scope='module')
def demo_messages():
    now = datetime.datetime(2025, 3, 1, tzinfo=datetime.timezone.utc)
    return now, list(generate_messages(300, seed=1, now=now))


def test_generated_messages_parse_without_header_defects(demo_messages):
    _, messages = demo_messages
    for message in messages:
        msg = email.message_from_bytes(message.raw, policy=email.policy.default)
        for part in msg.walk():
            assert part.defects == [], (message.message_id, part.defects)
            for name, value in part.items():
                assert value.defects == (), (message.message_id, name, value.defects)
        assert msg['Message-ID'] == message.message_id
        assert b'\r\n' in message.raw and b'\n' not in message.raw.replace(b'\r\n', b'')


def test_generated_messages_look_like_a_real_mailbox(demo_messages):
    now, messages = demo_messages
    assert len(messages) == 300
    assert {m.folder for m in messages} == {'INBOX', 'Sent'}
    languages, charsets, types, subjects = set(), set(), set(), []
    newsletters = 0
    for message in messages:
        msg = email.message_from_bytes(message.raw, policy=email.policy.default)
        languages.add(msg['Content-Language'])
        subjects.append(msg['Subject'])
        for part in msg.walk():
            types.add(part.get_content_type())
            if part.get_content_charset():
                charsets.add(part.get_content_charset())
        if msg['List-Unsubscribe']:
            newsletters += 1
            assert msg['From'].addresses[0].username.startswith(('noreply', 'no-reply'))
        assert now - datetime.timedelta(days=120) <= message.date <= now
        assert msg['Date'].datetime == message.date
    assert {'en-US', 'de-DE', 'fr-FR', 'es-ES', 'ja-JP', 'zh-CN', 'ar-AE'} <= languages
    assert newsletters >= 10
    assert {'multipart/alternative', 'multipart/mixed', 'application/pdf', 'image/png'} <= types
    assert {'iso-2022-jp', 'iso-8859-1', 'utf-8'} <= charsets
    raw_headers = b''.join(m.raw.split(b'\r\n\r\n', 1)[0] for m in messages)
    for marker in (b'=?iso-2022-jp?B?', b'=?utf-8?Q?', b'=?windows-1256?B?', b'=?gb2312?B?',
                   b'=?iso-8859-1?Q?'):
        assert marker in raw_headers, marker
    assert any(not line.isascii() for line in raw_headers.split(b'\r\n')), 'no raw UTF-8 header'
    # Decoded, they read as the people wrote them.
    assert any('\u3042' <= c <= '\u30ff' for s in subjects for c in s)  # Japanese kana
    assert any('\u0600' <= c <= '\u06ff' for s in subjects for c in s)  # Arabic
    assert any(c in 'äöüß' for s in subjects for c in s)


def test_generated_reply_chains_are_consistent(demo_messages):
    _, messages = demo_messages
    seen = {}
    chained = 0
    for message in messages:
        msg = email.message_from_bytes(message.raw, policy=email.policy.default)
        parent = msg['In-Reply-To']
        if parent:
            chained += 1
            # Replies come after the mail they answer, which exists.
            assert parent in seen and seen[parent] < message.date
            refs = msg['References'].split()
            assert refs[-1] == parent and all(r in seen for r in refs)
            assert msg['Subject'].startswith(REPLY_PREFIXES), msg['Subject']
        seen[message.message_id] = message.date
    assert chained > 50
    assert len(seen) == len(messages)  # Message-IDs are unique


def test_generator_is_deterministic_per_seed(demo_messages):
    now, messages = demo_messages
    again = list(generate_messages(300, seed=1, now=now))
    assert [m.raw for m in again] == [m.raw for m in messages]
    other = list(generate_messages(300, seed=2, now=now))
    assert [m.raw for m in other] != [m.raw for m in messages]


def _check_png(data):
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    pos, chunks, idat = 8, [], b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append(kind)
        if kind == b'IDAT':
            idat += body
        if kind == b'IHDR':
            width, height = struct.unpack('>II', body[:8])
        pos += 12 + length
    assert chunks[0] == b'IHDR' and chunks[-1] == b'IEND'
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)


def _check_pdf(data):
    assert data.startswith(b'%PDF-1.') and data.rstrip().endswith(b'%%EOF')
    startxref = int(data.rsplit(b'startxref', 1)[1].split()[0])
    assert data[startxref:startxref + 4] == b'xref'
    entries = data[startxref:].split(b'\n')[3:]
    number = 1
    for entry in entries:
        if not entry.endswith(b' n '):
            break
        offset = int(entry[:10])
        assert data[offset:].startswith(b'%d 0 obj' % number)
        number += 1
    assert number > 3


def test_generated_attachments_are_valid_files(demo_messages):
    _, messages = demo_messages
    checked = {'image/png': 0, 'application/pdf': 0}
    for message in messages:
        msg = email.message_from_bytes(message.raw, policy=email.policy.default)
        for part in msg.walk():
            kind = part.get_content_type()
            if kind in checked:
                (_check_png if kind == 'image/png' else _check_pdf)(part.get_content())
                assert part.get_filename()
                checked[kind] += 1
    assert all(checked.values()), checked
