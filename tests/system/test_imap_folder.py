"""Reading one folder of a real IMAP server (the test Dovecot) for the sync.

Each test works in a folder of its own (or a user of its own when it
touches INBOX or kicks connections), so tests can run in any order and
never disturb alice's and bob's mail, which other test files rely on.
"""
import datetime
import itertools
import re
import socket
import subprocess
import threading
import time

import imapclient.exceptions
import pytest

from devenv.demo_mail import generate_raw_messages

from email_crm_sync.lib import connection_errors as ce
from email_crm_sync.lib.imap_folder import (
    FOLDER_GONE, FetchedMessage, FolderGone, FolderReader, FolderStatus, newest_first)
from email_crm_sync.lib.imap_session import ServerSettings, open_session

UTC = datetime.timezone.utc
DOVEADM = '/usr/bin/doveadm'
READER = ('folder-reader', 'folder-reader-pass')

_numbers = itertools.count(1)


def when(year, month, day, hour=12, tz=UTC):
    return datetime.datetime(year, month, day, hour, tzinfo=tz)


def simple_message(n, body=b''):
    return (b'From: Customer %d <customer%d@example.com>\r\n'
            b'To: Reader <reader@localhost>\r\n'
            b'Subject: Quote %d\r\n'
            b'Message-ID: <quote-%d@example.com>\r\n'
            b'\r\n'
            b'Hello, please send the quote number %d.\r\n' % (n, n, n, n, n)) + body


class MailFolder:
    """A folder of one Dovecot user, and a second connection to check it from
    the outside (as another mail client would)."""

    def __init__(self, dovecot, fingerprint, login, password, name):
        self.dovecot, self.fingerprint = dovecot, fingerprint
        self.login, self.password, self.name = login, password, name

    def settings(self, port=None):
        return ServerSettings(self.dovecot.host, port or self.dovecot.imaps_port, 'ssl',
                              self.login, self.password, timeout=10,
                              trusted_fingerprint=self.fingerprint)

    def client(self):
        return self.dovecot.imap_client(self.login, self.password)

    def append(self, raw, flags=(), date=None):
        """APPEND one message; returns its UID (from UIDPLUS's APPENDUID)."""
        answer = self.dovecot.append(self.login, self.password, self.name, raw,
                                     flags=flags, date=date)
        if isinstance(answer, bytes):
            answer = answer.decode('ascii', 'replace')
        return int(re.search(r'APPENDUID \d+ (\d+)', answer).group(1))

    def outside_flags(self):
        """{uid: flags} as a second client sees them (EXAMINE, read-only)."""
        with self.client() as client:
            client.select_folder(self.name, readonly=True)
            # (imapclient's fetch() takes a list of UIDs, not a "1:*" range)
            return {uid: tuple(f.decode() for f in flags)
                    for uid, flags in client.get_flags(client.search(['ALL'])).items()}

    def delete_uids(self, uids):
        with self.client() as client:
            client.select_folder(self.name)
            client.delete_messages(uids)
            client.expunge()


@pytest.fixture(scope='module')
def reader_account(dovecot):
    dovecot.add_user(*READER)
    return READER


@pytest.fixture
def new_folder(dovecot, dovecot_fingerprint, reader_account):
    """Creates an empty folder of its own for the test."""
    def make(login=None, password=None):
        login, password = (login, password) if login else reader_account
        name = 'Sync%d' % next(_numbers)
        with dovecot.imap_client(login, password) as client:
            client.create_folder(name)
        return MailFolder(dovecot, dovecot_fingerprint, login, password, name)
    return make


@pytest.fixture
def folder(new_folder):
    return new_folder()


@pytest.fixture
def sessions():
    """Opens ImapSessions and closes them all when the test ends."""
    opened = []

    def open_(settings):
        session = open_session(settings)
        opened.append(session)
        return session
    yield open_
    for session in opened:
        session.close()


@pytest.fixture
def reader(folder, sessions):
    return FolderReader(sessions(folder.settings()), folder.name)


def all_batches(reader, uids, batch_size):
    return [[m.uid for m in batch] for batch in reader.fetch(uids, batch_size)]


# -- status: the cheap "anything new?" check -----------------------------------

def test_status_of_an_empty_folder(reader):
    status = reader.status()
    assert isinstance(status, FolderStatus)
    assert status.messages == 0
    assert status.uidnext == 1
    assert status.uidvalidity > 0
    assert isinstance(status.highestmodseq, int)  # Dovecot offers CONDSTORE


def test_status_of_a_filled_folder(folder, reader):
    for n in range(3):
        folder.append(simple_message(n))
    status = reader.status()
    assert (status.messages, status.uidnext) == (3, 4)


def test_uidnext_grows_after_delivery_and_modseq_after_a_flag_change(
        dovecot, dovecot_fingerprint, sessions):
    login, password = 'folder-reader-inbox', 'inbox-pass'
    dovecot.add_user(login, password)
    inbox = MailFolder(dovecot, dovecot_fingerprint, login, password, 'INBOX')
    reader = FolderReader(sessions(inbox.settings()), 'INBOX')
    before = reader.status()

    dovecot.deliver(login, simple_message(1))
    dovecot.deliver(login, simple_message(2))
    delivered = reader.status()
    assert delivered.uidnext == before.uidnext + 2
    assert delivered.messages == before.messages + 2
    assert delivered.uidvalidity == before.uidvalidity

    with inbox.client() as client:
        client.select_folder('INBOX')
        client.add_flags([delivered.uidnext - 1], [b'\\Flagged'])
    flagged = reader.status()
    assert flagged.uidnext == delivered.uidnext, 'a flag change is no new mail'
    assert flagged.highestmodseq > delivered.highestmodseq


def test_status_neither_selects_nor_marks_anything(folder, reader):
    for n in range(2):
        folder.append(simple_message(n))
    reader.status()
    reader.status()
    # No folder is selected on the reader's connection: the server refuses
    # a SEARCH there.
    with pytest.raises(imapclient.exceptions.IMAPClientError):
        reader.session.client.search(['ALL'])
    with folder.client() as client:
        selected = client.select_folder(folder.name)
        assert selected[b'RECENT'] == 2, '\\Recent still there for the first real SELECT'
        flags = client.get_flags([1, 2])
    assert all(b'\\Seen' not in f for f in flags.values())


# -- open: read-only ----------------------------------------------------------------

def test_open_is_read_only_and_fetching_never_marks_mail_read(folder, reader):
    for n in range(3):
        folder.append(simple_message(n))
    read_before = folder.append(simple_message(9), flags=[b'\\Seen'])

    status = reader.open()
    assert (status.messages, status.uidnext) == (4, 5)
    assert status.uidvalidity == reader.status().uidvalidity
    assert isinstance(status.highestmodseq, int)
    fetched = [m for batch in reader.fetch(reader.all_uids(), batch_size=2) for m in batch]
    assert len(fetched) == 4

    flags = folder.outside_flags()
    assert {uid: '\\Seen' in f for uid, f in flags.items()} == {
        1: False, 2: False, 3: False, read_before: True}
    with folder.client() as client:
        assert client.select_folder(folder.name)[b'RECENT'] == 4, 'EXAMINE keeps \\Recent'


def test_open_reports_highestmodseq_even_after_another_folder_was_selected(folder, sessions):
    """ENABLE CONDSTORE is only allowed with no folder selected: the reader
    leaves the other folder first (UNSELECT, which expunges nothing)."""
    folder.append(simple_message(1))
    session = sessions(folder.settings())
    session.client.select_folder('INBOX', readonly=True)
    status = FolderReader(session, folder.name).open()
    assert isinstance(status.highestmodseq, int)
    assert status.messages == 1


# -- searching ---------------------------------------------------------------------

def test_search_since_a_date_compares_the_day_of_arrival(folder, reader):
    january = folder.append(simple_message(1), date=when(2024, 1, 10))
    february = folder.append(simple_message(2), date=when(2024, 2, 10))
    march = folder.append(simple_message(3), date=when(2024, 3, 10))
    reader.open()

    cases = [
        # (since, min_uid) -> found
        ((None, 1), [january, february, march]),
        ((datetime.date(2024, 2, 1), 1), [february, march]),
        ((datetime.date(2024, 3, 10), 1), [march]),          # the same day counts
        ((datetime.date(2024, 3, 11), 1), []),
        ((datetime.date(2023, 1, 1), march), [march]),       # both criteria together
        ((datetime.date(2024, 2, 1), march + 1), []),
    ]
    for (since, min_uid), expected in cases:
        assert reader.search_uids(since=since, min_uid=min_uid) == expected, (since, min_uid)


def test_search_from_a_uid_and_the_n_star_quirk(folder, reader):
    reader.open()
    assert reader.search_uids() == [], 'an empty folder'
    for n in range(5):
        folder.append(simple_message(n))
    reader.open()

    # The server itself answers "UID 6:*" with the last message, 5:
    assert reader.session.client.search(['UID', '6:*']) == [5]
    cases = [
        # min_uid -> found
        (0, [1, 2, 3, 4, 5]),
        (1, [1, 2, 3, 4, 5]),
        (3, [3, 4, 5]),
        (5, [5]),
        (6, []),        # nothing new although the server names UID 5
        (1000, []),
    ]
    for min_uid, expected in cases:
        assert reader.search_uids(min_uid=min_uid) == expected, min_uid


def test_all_uids_lists_what_is_left_after_deletions(folder, reader):
    for n in range(5):
        folder.append(simple_message(n))
    folder.delete_uids([2, 4])
    reader.open()
    assert reader.all_uids() == [1, 3, 5]


def test_search_and_fetch_need_the_folder_opened_by_this_reader(folder, sessions):
    folder.append(simple_message(1))
    with folder.client() as client:   # another folder of the same user
        client.create_folder(folder.name + '-other')
    session = sessions(folder.settings())
    reader = FolderReader(session, folder.name)
    with pytest.raises(RuntimeError, match='call open'):
        reader.search_uids()
    reader.open()
    assert reader.search_uids() == [1]
    FolderReader(session, folder.name + '-other').open()
    with pytest.raises(RuntimeError, match='call open'):
        list(reader.fetch([1]))
    reader.open()
    assert all_batches(reader, [1], 10) == [[1]]


# -- fetching ------------------------------------------------------------------------

def test_fetch_in_batches_returns_the_messages_exactly(folder, reader):
    raws = list(generate_raw_messages(7, seed=11))
    flag_sets = [(), (b'\\Seen',), (b'\\Flagged',), (b'\\Answered', b'\\Seen'), (),
                 (b'$Label1',), ()]
    dates = [when(2024, 5, day, 9) for day in range(1, 8)]
    # One arrival noted in Paris summer time: reported in UTC, 07:30.
    dates[3] = datetime.datetime(2024, 5, 4, 9, 30, tzinfo=datetime.timezone(
        datetime.timedelta(hours=2)))
    appended = {}
    for raw, flags, date in zip(raws, flag_sets, dates):
        appended[folder.append(raw, flags=flags, date=date)] = (raw, flags, date)
    reader.open()
    uids = reader.search_uids()
    assert uids == sorted(appended)

    batches = list(reader.fetch(uids, batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    messages = [m for batch in batches for m in batch]
    assert [m.uid for m in messages] == uids
    for message in messages:
        raw, flags, date = appended[message.uid]
        assert isinstance(message, FetchedMessage)
        assert message.raw == raw
        assert message.size == len(raw)
        assert message.flags == tuple(f.decode() for f in flags)  # no \Recent
        assert message.internaldate.tzinfo is None
        assert message.internaldate == date.astimezone(UTC).replace(tzinfo=None)
        assert isinstance(message.modseq, int)
    assert messages[3].internaldate == datetime.datetime(2024, 5, 4, 7, 30)


def test_fetch_keeps_the_order_it_was_given(folder, reader):
    for n in range(6):
        folder.append(simple_message(n))
    reader.open()
    assert all_batches(reader, [5, 2, 6, 1], batch_size=3) == [[5, 2, 6], [1]]
    assert all_batches(reader, [], batch_size=3) == []


@pytest.mark.parametrize('uids, batch_size, expected', [
    # A first import shows this week's mail first: newest batch first,
    # each batch in ascending order.
    ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4, [7, 8, 9, 10, 3, 4, 5, 6, 1, 2]),
    ([1, 2, 3, 4, 5, 6], 3, [4, 5, 6, 1, 2, 3]),
    ([10, 3, 7, 1], 10, [1, 3, 7, 10]),
    ([5, 1, 9, 5], 1, [9, 5, 1]),
    ([], 100, []),
])
def test_newest_first_order(uids, batch_size, expected):
    assert newest_first(uids, batch_size) == expected


def test_a_first_import_fetches_the_newest_batch_first(folder, reader):
    for n in range(7):
        folder.append(simple_message(n))
    reader.open()
    uids = newest_first(reader.search_uids(), 3)
    assert all_batches(reader, uids, batch_size=3) == [[5, 6, 7], [2, 3, 4], [1]]


def test_a_message_deleted_between_search_and_fetch_is_skipped(folder, reader):
    for n in range(4):
        folder.append(simple_message(n))
    reader.open()
    uids = reader.search_uids()
    assert uids == [1, 2, 3, 4]
    folder.delete_uids([2])       # another mail client, meanwhile
    assert all_batches(reader, uids, batch_size=2) == [[1], [3, 4]]
    assert reader.all_uids() == [1, 3, 4]


# -- flag changes (CONDSTORE) --------------------------------------------------

def test_flag_changes_reports_what_changed_since_a_modseq(folder, reader):
    for n in range(4):
        folder.append(simple_message(n))
    first = reader.open()
    assert reader.flag_changes(first.highestmodseq) == {}

    with folder.client() as client:   # the user, in their mail program
        client.select_folder(folder.name)
        client.add_flags([2], [b'\\Flagged'])
        client.add_flags([3], [b'\\Seen'])
    changes = reader.flag_changes(first.highestmodseq)
    assert changes == {2: ('\\Flagged',), 3: ('\\Seen',)}

    second = reader.open()
    assert second.highestmodseq > first.highestmodseq
    assert reader.flag_changes(second.highestmodseq) == {}
    modseqs = {m.uid: m.modseq for batch in reader.fetch([1, 2]) for m in batch}
    assert modseqs[2] > first.highestmodseq >= modseqs[1]


# -- UIDVALIDITY ----------------------------------------------------------------

def test_uidvalidity_stays_the_same_across_reconnects(folder, sessions):
    folder.append(simple_message(1))
    seen = set()
    for _ in range(3):
        session = sessions(folder.settings())
        reader = FolderReader(session, folder.name)
        seen.add(reader.status().uidvalidity)
        seen.add(reader.open().uidvalidity)
        session.close()
    assert len(seen) == 1


def test_a_folder_recreated_under_the_same_name_gets_a_new_uidvalidity(folder, reader):
    folder.append(simple_message(1))
    before = reader.status()
    with folder.client() as client:
        client.delete_folder(folder.name)
        client.create_folder(folder.name)
    folder.append(simple_message(2))
    after = reader.status()
    assert after.uidvalidity != before.uidvalidity, 'old UIDs mean nothing any more'


# -- the folder disappears ---------------------------------------------------------

def test_a_deleted_folder_raises_folder_gone(folder, reader, sessions):
    folder.append(simple_message(1))
    reader.status()
    with folder.client() as client:
        client.delete_folder(folder.name)

    with pytest.raises(FolderGone) as caught:
        reader.status()
    problem = caught.value
    assert isinstance(problem, ce.ConnectionProblem)
    assert problem.code == FOLDER_GONE
    assert 'The folder "%s" no longer exists' % folder.name in problem.message

    with pytest.raises(FolderGone):
        FolderReader(sessions(folder.settings()), folder.name).open()


def test_a_folder_deleted_while_open_drops_the_connection_then_is_gone(folder, reader, sessions):
    """Dovecot disconnects a session whose selected folder is deleted
    (BYE "Mailbox was deleted under us"): that reads as a dropped connection,
    and the next attempt finds the folder gone."""
    for n in range(3):
        folder.append(simple_message(n))
    reader.open()
    with folder.client() as client:
        client.delete_folder(folder.name)
    with pytest.raises(ce.ConnectionProblem) as caught:
        list(reader.fetch([1, 2, 3]))
    assert caught.value.code == ce.DROPPED   # "BYE Mailbox was deleted under us"
    with pytest.raises(FolderGone):
        FolderReader(sessions(folder.settings()), folder.name).status()


# -- the connection drops --------------------------------------------------------

def doveadm(dovecot, *args):
    return subprocess.run([DOVEADM, '-c', dovecot.config_path] + list(args),
                          capture_output=True, text=True, timeout=30, check=True).stdout


def connections_of(dovecot, login):
    rows = doveadm(dovecot, 'who', '-1', login).splitlines()[1:]
    return [row for row in rows if row.split() and row.split()[0] == login]


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s' % condition)
        time.sleep(0.05)


def test_a_connection_kicked_by_the_server_between_batches(
        dovecot, dovecot_fingerprint, new_folder, sessions):
    login, password = 'folder-reader-kicked', 'kicked-pass'
    dovecot.add_user(login, password)
    folder = new_folder(login, password)
    for n in range(6):
        folder.append(simple_message(n))
    reader = FolderReader(sessions(folder.settings()), folder.name)
    reader.open()
    batches = reader.fetch(reader.search_uids(), batch_size=3)
    received = [next(batches)]
    assert [m.uid for m in received[0]] == [1, 2, 3]

    # Dovecot registers a connection shortly after login: kick it only
    # once listed, and wait until it is really gone.
    wait_until(lambda: connections_of(dovecot, login))
    doveadm(dovecot, 'kick', login)
    wait_until(lambda: not connections_of(dovecot, login))

    with pytest.raises(ce.ConnectionProblem) as caught:
        received.extend(batches)
    assert len(received) == 1, 'no part of the second batch'
    problem = caught.value
    assert problem.code == ce.DROPPED
    assert 'closed the connection while the folder "%s" was being read' % folder.name \
        in problem.message
    with pytest.raises(ce.ConnectionProblem):
        reader.status()   # the session is dead, and says so


class CuttingRelay:
    """A TCP relay between the reader and Dovecot that can cut the connection
    after a given number of further bytes from the server: a network that
    dies in the middle of a FETCH answer."""

    def __init__(self, port):
        self.target = ('127.0.0.1', port)
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.allowance = None          # bytes the server may still send; None: no limit
        self.sent_after_arming = 0
        self.cut = threading.Event()
        self.sockets = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def arm(self, nbytes):
        with self.lock:
            self.allowance, self.sent_after_arming = nbytes, 0

    def _accept(self):
        try:
            downstream, _ = self.listener.accept()
        except OSError:
            return
        upstream = socket.create_connection(self.target, timeout=10)
        self.sockets += [downstream, upstream]
        for source, sink, limited in ((downstream, upstream, False), (upstream, downstream, True)):
            thread = threading.Thread(target=self._pump, args=(source, sink, limited), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _pump(self, source, sink, limited):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if limited:
                    with self.lock:
                        if self.allowance is not None:
                            data = data[:self.allowance]
                            self.allowance -= len(data)
                            self.sent_after_arming += len(data)
                sink.sendall(data)
                if limited and self.allowance == 0:
                    self.cut.set()
                    break
        except OSError:
            pass
        finally:
            self._close_all()

    def _close_all(self):
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self):
        self.listener.close()
        self._close_all()
        for thread in self.threads:
            thread.join(10)


def test_a_connection_cut_in_the_middle_of_a_batch_yields_nothing_of_it(folder, sessions):
    # Messages of ~20 kB: a batch of 4 is ~80 kB on the wire.
    padding = b''.join(b'Line %05d of the offer, with the prices and terms.\r\n' % i
                       for i in range(400))
    for n in range(8):
        folder.append(simple_message(n, body=padding))
    relay = CuttingRelay(folder.dovecot.imaps_port)
    try:
        reader = FolderReader(sessions(folder.settings(port=relay.port)), folder.name)
        reader.open()
        batches = reader.fetch(reader.search_uids(), batch_size=4)
        received = [next(batches)]
        assert [m.uid for m in received[0]] == [1, 2, 3, 4]

        relay.arm(30000)    # the server gets ~30 kB of the second batch out
        with pytest.raises(ce.ConnectionProblem) as caught:
            received.extend(batches)
        assert relay.cut.is_set() and relay.sent_after_arming == 30000
        assert len(received) == 1, 'no part of the second batch'
        assert caught.value.code == ce.DROPPED
    finally:
        relay.close()
    assert not any(t.is_alive() for t in relay.threads)

    # Nothing was marked read, and the next run gets the whole batch.
    assert not any('\\Seen' in f for f in folder.outside_flags().values())
    again = FolderReader(sessions(folder.settings()), folder.name)
    again.open()
    assert all_batches(again, [5, 6, 7, 8], batch_size=4) == [[5, 6, 7, 8]]
