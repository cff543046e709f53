"""Reading one IMAP folder for a crash-safe, incremental sync.

``FolderReader(session, folder_name)`` is the one place that talks IMAP for a
folder. It returns plain Python values (``FolderStatus``, ``FetchedMessage``,
lists of UIDs), never imapclient structures, so the sync logic can be tested
without a server.

A sync round reads like this::

    reader = FolderReader(session, 'INBOX')
    status = reader.status()                  # STATUS: anything new?
    if status.uidnext > folder.last_uid + 1 or status.highestmodseq != ...:
        status = reader.open()                # EXAMINE: read-only
        uids = reader.search_uids(min_uid=folder.last_uid + 1)
        for batch in reader.fetch(uids):      # UID FETCH BODY.PEEK[] ...
            store(batch); commit()            # a batch comes whole or not at all

What it promises:

- Nothing it does can change the mailbox: the folder is opened with EXAMINE
  and bodies are read with BODY.PEEK[], so no message ever gets ``\\Seen``
  and none loses ``\\Recent``.
- ``fetch`` is a generator holding one batch of bodies at a time, and yields
  a batch only once all of it has arrived. A dropped connection raises
  ``ConnectionProblem`` before anything of the unfinished batch is yielded.
- Every failure is a ``connection_errors.ConnectionProblem``: a lost
  connection is ``dropped``, a folder deleted or renamed on the server is
  ``folder_gone`` (``FolderGone``).
- A message expunged between SEARCH and FETCH is simply left out.

One session has one selected folder: after ``open()`` on another reader of
the same session, call ``open()`` again before searching or fetching here.
"""
import contextlib
import datetime
import weakref
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import imapclient.exceptions
from imapclient.response_parser import parse_fetch_response

from . import connection_errors
from .connection_errors import ConnectionProblem

FOLDER_GONE = 'folder_gone'
CONDSTORE_UNSUPPORTED = 'condstore_unsupported'

DEFAULT_BATCH_SIZE = 100

# \Recent only says which session saw a message first: it is not a property
# of the message, and reporting it would make flags differ between runs.
_SESSION_FLAGS = {'\\RECENT'}

_FETCH_ITEMS = ['BODY.PEEK[]', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE']

# Which reader last opened a folder on a given IMAP connection, and which
# connections have CONDSTORE enabled. Keyed by the imapclient object, so
# neither ImapSession nor imapclient needs to know about us.
_selected_by = weakref.WeakKeyDictionary()
_condstore_enabled = weakref.WeakSet()


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int
    messages: int
    highestmodseq: Optional[int]  # None when the server has no CONDSTORE


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    flags: Tuple[str, ...]
    internaldate: datetime.datetime  # naive, UTC
    size: int
    raw: bytes
    modseq: Optional[int]  # None when the server has no CONDSTORE


class FolderGone(ConnectionProblem):
    """The folder no longer exists on the server (deleted or renamed)."""

    def __init__(self, folder_name, host):
        super().__init__(
            FOLDER_GONE,
            'The folder "%s" no longer exists on %s: it was deleted or renamed in the '
            'mailbox. The mail already synced from it stays in the CRM. If it was renamed, '
            'choose the folders to sync again.' % (folder_name, host))
        self.folder_name = folder_name


def newest_first(uids, batch_size=DEFAULT_BATCH_SIZE):
    """Order UIDs for a first import: the newest batch first, each batch ascending.

    Feed the result to ``FolderReader.fetch`` with the same ``batch_size``
    and its batches are exactly these: people see this week's mail while
    last year's is still coming in. ``newest_first([1..10], 4)`` is
    ``[7, 8, 9, 10, 3, 4, 5, 6, 1, 2]``.

    The UIDs are no longer fetched in ascending order, so "highest UID
    stored" is not a resume point during such an import; the lowest UID
    of the last committed batch is.
    """
    if batch_size < 1:
        raise ValueError('batch_size must be at least 1')
    ordered = sorted(set(uids))
    result = []
    end = len(ordered)
    while end > 0:
        start = max(0, end - batch_size)
        result.extend(ordered[start:end])
        end = start
    return result


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return str(value)


def _flags(raw_flags):
    return tuple(_text(f) for f in raw_flags or () if _text(f).upper() not in _SESSION_FLAGS)


def _modseq(value):
    # imapclient leaves MODSEQ as it came: a parenthesised list, "(42)".
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    return int(value) if value is not None else None


def _utc_naive(moment):
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class FolderReader:
    """Reads one folder over an ``ImapSession``; every method is one or two
    IMAP commands and returns plain values."""

    def __init__(self, session, folder_name):
        self.session = session
        self.folder_name = folder_name
        client = session.client
        self.host = getattr(client, 'host', '?')
        self.port = getattr(client, 'port', '?')
        try:
            self._timeout = client.socket().gettimeout()
        except Exception:  # only used to word a timeout message
            self._timeout = None

    @property
    def _client(self):
        return self.session.client

    # -- errors --------------------------------------------------------------

    def _problem(self, error):
        """The ConnectionProblem for an error raised while talking to the server."""
        problem = connection_errors.explain(error, self.host, self.port, self._timeout)
        if problem.code in (connection_errors.DROPPED, connection_errors.TLS_FAILED):
            # explain() words these for a failed connect; here the connection
            # had been working, so "check the security setting" would mislead.
            return ConnectionProblem(
                connection_errors.DROPPED,
                'The server %s closed the connection while the folder "%s" was being read. '
                'Mail synced so far is kept; the sync continues from there next time.'
                % (self.host, self.folder_name))
        return problem

    @contextlib.contextmanager
    def _talking(self):
        """Turn whatever the connection raises into a ConnectionProblem.

        A command the server answered with NO/BAD may mean the folder is
        gone (Dovecot says "Mailbox doesn't exist" without a response code):
        one LIST tells, and then the error says so.
        """
        try:
            yield
        except ConnectionProblem:
            raise
        except imapclient.exceptions.IMAPClientAbortError as error:
            self._abandon_connection()
            raise self._problem(error) from error
        except imapclient.exceptions.IMAPClientError as error:
            if not self._folder_exists():
                self._forget_selection()
                raise FolderGone(self.folder_name, self.host) from error
            raise self._problem(error) from error
        except (OSError, EOFError) as error:
            self._abandon_connection()
            raise self._problem(error) from error

    def _abandon_connection(self):
        """After a drop or a timeout the connection may be cut in the middle
        of an answer: close it, so nothing can ever read the rest as the
        answer to a later command."""
        self._forget_selection()
        try:
            self._client.shutdown()
        except Exception:  # already closed: that is the point
            pass

    def _folder_exists(self):
        """One LIST, after a command failed: is the folder still there?"""
        try:
            listed = self._client.list_folders('', self.folder_name)
        except (imapclient.exceptions.IMAPClientAbortError, OSError, EOFError) as error:
            self._abandon_connection()
            raise self._problem(error) from error
        except imapclient.exceptions.IMAPClientError:
            return True  # cannot tell: report the original error instead
        wanted = self.folder_name
        if wanted.upper() == 'INBOX':  # the one case-insensitive name (RFC 3501)
            return any(name.upper() == 'INBOX' for _flags, _delim, name in listed)
        return any(name == wanted for _flags, _delim, name in listed)

    def _forget_selection(self):
        if _selected_by.get(self._client) is self:
            del _selected_by[self._client]

    def _require_open(self):
        if _selected_by.get(self._client) is not self:
            raise RuntimeError('FolderReader(%r): call open() before searching or fetching'
                               % self.folder_name)

    # -- capabilities ----------------------------------------------------------

    def _has_condstore(self):
        return self._client.has_capability('CONDSTORE')

    def _enable_condstore(self):
        """ENABLE CONDSTORE once per connection, so EXAMINE reports HIGHESTMODSEQ
        and FETCH can ask for MODSEQ. ENABLE is only legal with no folder
        selected: leave the current one first (UNSELECT keeps it intact)."""
        client = self._client
        if client in _condstore_enabled:
            return
        try:
            client.enable('CONDSTORE')
        except imapclient.exceptions.IllegalStateError:
            if not client.has_capability('UNSELECT'):
                return  # open() falls back to STATUS for HIGHESTMODSEQ
            client.unselect_folder()
            _selected_by.pop(client, None)
            client.enable('CONDSTORE')
        _condstore_enabled.add(client)

    # -- folder state ----------------------------------------------------------

    def _status_items(self, condstore):
        items = ['UIDVALIDITY', 'UIDNEXT', 'MESSAGES']
        if condstore:
            items.append('HIGHESTMODSEQ')
        return items

    def status(self) -> FolderStatus:
        """STATUS folder (UIDVALIDITY UIDNEXT MESSAGES [HIGHESTMODSEQ]).

        One round trip and no SELECT: the cheap "anything new?" check,
        whatever the size of the folder. Changes nothing (not even \\Recent).
        """
        with self._talking():
            condstore = self._has_condstore()
            answer = self._client.folder_status(self.folder_name, self._status_items(condstore))
            if condstore:
                # STATUS HIGHESTMODSEQ is a CONDSTORE enabling command (RFC 7162).
                _condstore_enabled.add(self._client)
        return self._folder_status(answer, condstore)

    def _folder_status(self, answer, condstore):
        answer = {_text(k).upper(): v for k, v in answer.items()}
        modseq = answer.get('HIGHESTMODSEQ') if condstore else None
        return FolderStatus(
            uidvalidity=int(answer['UIDVALIDITY']),
            uidnext=int(answer['UIDNEXT']),
            messages=int(answer.get('MESSAGES', answer.get('EXISTS', 0))),
            highestmodseq=int(modseq) if modseq is not None else None)

    def open(self) -> FolderStatus:
        """EXAMINE the folder (a read-only SELECT: nothing can set \\Seen).

        Enables CONDSTORE first when the server offers it, so the status
        carries HIGHESTMODSEQ and fetched messages their MODSEQ.
        """
        with self._talking():
            condstore = self._has_condstore()
            if condstore:
                self._enable_condstore()
            self._forget_selection()
            answer = self._client.select_folder(self.folder_name, readonly=True)
            _selected_by[self._client] = self
            answer = {_text(k).upper(): v for k, v in answer.items()}
            wanted = ['UIDVALIDITY', 'UIDNEXT'] + (['HIGHESTMODSEQ'] if condstore else [])
            missing = [item for item in wanted if item not in answer]
            if missing:
                # Servers may leave out UIDNEXT (allowed by RFC 3501) or
                # HIGHESTMODSEQ (CONDSTORE not enabled yet): ask for them.
                answer.update({_text(k).upper(): v for k, v in
                               self._client.folder_status(self.folder_name, missing).items()})
        return self._folder_status(answer, condstore)

    # -- searching ---------------------------------------------------------------

    def search_uids(self, since: Optional[datetime.date] = None, min_uid: int = 1) -> List[int]:
        """UID SEARCH [SINCE date] UID min_uid:* -> ascending UIDs.

        SINCE compares the server's INTERNALDATE by day only. ``UID n:*``
        always matches the last message, even when n is above every UID
        (RFC 3501 reads n:* as a range between n and the largest UID): such
        a UID is filtered out here, so "nothing new" is an empty list.
        """
        self._require_open()
        min_uid = max(1, int(min_uid))
        criteria = ['UID', '%d:*' % min_uid]
        if since is not None:
            criteria += ['SINCE', since]
        with self._talking():
            found = self._client.search(criteria)
        return sorted(uid for uid in set(found) if uid >= min_uid)

    def all_uids(self) -> List[int]:
        """UID SEARCH ALL -> every UID, ascending (for the self-audit: cheap,
        no message data)."""
        self._require_open()
        with self._talking():
            found = self._client.search(['ALL'])
        return sorted(set(found))

    # -- fetching -----------------------------------------------------------------

    def fetch(self, uids, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[List[FetchedMessage]]:
        """UID FETCH in batches: BODY.PEEK[] FLAGS INTERNALDATE RFC822.SIZE [MODSEQ].

        Yields one list per batch of ``batch_size`` UIDs, in the order of
        ``uids``. BODY.PEEK never marks mail read. A UID that no longer
        exists (expunged after the search) is left out, so a batch may be
        shorter than its UIDs, or even empty. A batch is yielded
        only when all of it has arrived; a failure raises ConnectionProblem
        and yields nothing of that batch. Holds one batch at a time.
        """
        if batch_size < 1:
            raise ValueError('batch_size must be at least 1')
        uids = [int(uid) for uid in uids]
        items = list(_FETCH_ITEMS)
        with self._talking():
            condstore = self._has_condstore()
        if condstore:
            items.append('MODSEQ')
        for chunk in _chunks(uids, batch_size):
            yield self._fetch_batch(chunk, items)

    def _fetch_batch(self, chunk, items):
        # Checked per batch: between two batches the caller may have opened
        # another folder on the same connection.
        self._require_open()
        with self._talking():
            found = self._fetch_complete(chunk, items)
            missing = [uid for uid in chunk if uid not in found]
            if missing:
                # Dovecot answers a message expunged by another session
                # before this one noticed with "BODY[] NIL". A SEARCH lets
                # the server tell us about expunges: what it still lists is
                # fetched once more, the rest is gone.
                still_there = set(self._client.search(['UID', ','.join(map(str, missing))]))
                still_there &= set(missing)
                if still_there:
                    found.update(self._fetch_complete(sorted(still_there), items))
                    unreturned = sorted(still_there - set(found))
                    if unreturned:
                        raise ConnectionProblem(
                            connection_errors.PROTOCOL,
                            'The server %s lists message %s in the folder "%s" but does not '
                            'return its content. Try again later.'
                            % (self.host, ', '.join(map(str, unreturned)), self.folder_name))
        batch = []
        seen = set()
        for uid in chunk:
            if uid in found and uid not in seen:
                seen.add(uid)
                batch.append(found[uid])
        return batch

    def _fetch_complete(self, uids, items):
        """UID FETCH uids -> {uid: FetchedMessage} for the messages that came
        with their content."""
        client = self._client
        # Time zones as the server sent them, so INTERNALDATE converts to
        # UTC exactly (imapclient would otherwise give local wall time).
        previous = client.normalise_times
        client.normalise_times = False
        try:
            response = client.fetch(uids, items)
        finally:
            client.normalise_times = previous
        found = {}
        for uid, data in response.items():
            raw = data.get(b'BODY[]')
            if raw is None or b'INTERNALDATE' not in data:
                continue
            found[uid] = FetchedMessage(
                uid=uid,
                flags=_flags(data.get(b'FLAGS')),
                internaldate=_utc_naive(data[b'INTERNALDATE']),
                size=int(data.get(b'RFC822.SIZE', len(raw))),
                raw=bytes(raw),
                modseq=_modseq(data.get(b'MODSEQ')))
        return found

    # -- flag changes ---------------------------------------------------------

    def flag_changes(self, since_modseq: int) -> Dict[int, Tuple[str, ...]]:
        """UID FETCH 1:* (FLAGS) (CHANGEDSINCE since_modseq) -> {uid: flags}.

        The messages whose flags (or anything else) changed after
        ``since_modseq``, a HIGHESTMODSEQ from an earlier ``open()``; messages
        added since then are included too. Take the new HIGHESTMODSEQ from
        ``open()`` before calling this, so nothing falls between two runs.
        Needs CONDSTORE (RFC 7162): without it, raises a ConnectionProblem
        with code ``condstore_unsupported``.
        """
        self._require_open()
        with self._talking():
            condstore = self._has_condstore()
        if not condstore:
            raise ConnectionProblem(
                CONDSTORE_UNSUPPORTED,
                'The server %s cannot tell which messages changed (it does not support '
                'CONDSTORE), so read and flagged marks cannot be followed incrementally.'
                % self.host)
        client = self._client
        with self._talking():
            # CHANGEDSINCE is itself a CONDSTORE enabling command (RFC 7162).
            # imapclient's fetch() only accepts lists of UIDs (it matches the
            # answer against int(uid), which a "1:*" range is not), and one
            # UID per changed message would make the command as long as the
            # mailbox is big: send the range through imaplib directly.
            typ, data = client._imap.uid(
                'FETCH', '1:*', '(FLAGS) (CHANGEDSINCE %d)' % int(since_modseq))
            if typ != 'OK':
                raise imapclient.exceptions.IMAPClientError(
                    'UID FETCH CHANGEDSINCE failed: %s' % _text(data[0] if data else ''))
            response = parse_fetch_response(data, client.normalise_times, True)
        return {uid: _flags(values.get(b'FLAGS'))
                for uid, values in response.items() if b'FLAGS' in values}
