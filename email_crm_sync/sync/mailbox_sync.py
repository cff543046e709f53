"""One sync run of one mailbox: folders, first import, new mail, flags,
deletions, self-audit. A fetched batch is stored in small groups, each
committed, so a run killed at any point resumes where it stopped and never
stores anything twice.

No message can stop a mailbox: a group is stored in a savepoint; when it
fails, its messages are stored one by one, each in a savepoint of its own,
and the one that still fails is quarantined (``email.sync.quarantine``)
with its reason. The folder's progress moves past it.

The time budget holds inside a batch too: the run stops between two groups
once it is spent, and groups shrink when the time left is short.

Runs in its own cursor (see EmailSyncMailbox._sync_locked); everything it
learns about the server goes through ``lib``.
"""
import dataclasses
import logging
import time

import psycopg2

from odoo import fields

from ..lib import connection_errors, imap_folder, mime_parser, sync_plan
from .conversation_builder import ConversationBuilder, display_names

_logger = logging.getLogger(__name__)

BATCH_SIZE = 100
# Parsed and stored together between two looks at the clock: at most
# GROUP_SIZE messages or GROUP_BYTES, fewer when the time left would not
# cover a whole group at the pace seen so far (a first group: FIRST_GROUP).
GROUP_SIZE = 20
FIRST_GROUP = 5
GROUP_BYTES = 8 * 1024 * 1024

# SQLSTATE classes that say nothing about the message: serialization
# failures and deadlocks (40), lost connections (08), cancelled statements
# and shutdowns (57), exhausted resources (53), a lock not granted (55P03).
# The run fails and is retried; no message is quarantined for them.
_TRANSIENT_SQLSTATES = ('40', '08', '57', '53', '55P03')


def is_transient(error):
    """Whether an error while storing a message is the database's, not the message's."""
    if isinstance(error, psycopg2.InterfaceError):
        return True
    if isinstance(error, psycopg2.Error):
        code = error.pgcode or ''
        return not code or code.startswith(_TRANSIENT_SQLSTATES)
    return False


class OutOfTime(Exception):
    """The run's time budget is spent; the next run continues."""


class MailboxSync:
    def __init__(self, mailbox, deadline):
        self.mailbox = mailbox
        self.env = mailbox.env
        self.cr = mailbox.env.cr
        self.deadline = deadline
        self.max_attachment = mailbox._max_attachment_bytes()
        self.version = self.env['email.sync.quarantine']._current_version()
        self.fetched = 0
        self.quarantined = 0
        self.out_of_time = False
        self.seconds_per_message = None
        # A run commits each group it stores (a run killed mid-batch keeps
        # them); a caller storing outside a run (tests) commits itself.
        self.commit_groups = False
        self.audit_counts = []   # (held, on the server in scope) per audited folder
        self.conversations = ConversationBuilder(mailbox)

    # --- run ------------------------------------------------------------
    def run(self, audit=False):
        """Sync every selected folder; returns True when nothing is left to do."""
        self.commit_groups = True
        if self.conversations.add_unplaced():
            self.cr.commit()  # mail stored before conversations existed
        self.retry = self.mailbox._has_stale_quarantine(self.version)
        with self.mailbox._imap_session() as session:
            if self.mailbox._listing_due():
                # Hourly, not every run: on some servers (Dovecot maildir) a LIST
                # makes the next STATUS calls cost in proportion to the folder.
                self.mailbox.folder_ids._merge_listing(self.mailbox, session.list_folders())
                self.mailbox.last_listing_date = fields.Datetime.now()
                self.cr.commit()
            for folder in self.mailbox._folders_to_sync():
                try:
                    self._sync_folder(session, folder, audit)
                except OutOfTime:
                    return False
                except connection_errors.ConnectionProblem as problem:
                    if problem.code != imap_folder.FOLDER_GONE:
                        raise
                    folder.write({'active': False})
                    self.mailbox._log('warning', 'Folder "%s" is gone from the server.' % folder.name)
                    self.cr.commit()
        return True

    def _batch_done(self):
        """After each committed batch: drop the ORM cache, which otherwise keeps
        every email of the run in memory, and stop when the time is up."""
        self.env.cache.invalidate()
        if self.out_of_time or time.monotonic() > self.deadline:
            raise OutOfTime()

    # --- one folder -----------------------------------------------------
    def _sync_folder(self, session, folder, audit):
        reader = imap_folder.FolderReader(session, folder.name)
        status = reader.status()
        stored = folder._stored_state()
        plan = sync_plan.plan_folder(stored, status)
        folder.write({'server_count': status.messages, 'last_sync_date': fields.Datetime.now()})
        stale = folder._stale_quarantine_uids(self.version) if self.retry else []
        if plan.idle and not audit and not stale:
            self.cr.commit()
            return
        reader.open()
        if plan.reset:
            self._forget_uids(folder, status)
        if plan.first_import:
            self._first_import(reader, folder, status)
        else:
            if plan.fetch_new:
                self._fetch_new(reader, folder)
            if plan.check_flags:
                self._update_flags(reader, folder, stored.highest_modseq)
            if plan.check_vanished or folder._stored_state().stored_count != status.messages:
                self._remove_vanished(reader, folder)
        if status.highestmodseq:
            folder.write({'highest_modseq': status.highestmodseq})
        if stale and not plan.reset:
            self._retry_quarantined(reader, folder, stale)
        if audit:
            self._audit(reader, folder)
        self.cr.commit()

    def _forget_uids(self, folder, status):
        """UIDVALIDITY changed: stored UIDs mean nothing now. Messages stay;
        re-importing matches them by Message-ID, so nothing is duplicated."""
        folder._unlink_links(archive_orphans=False)
        folder._release_quarantine()
        folder.write({'uidvalidity': status.uidvalidity, 'last_uid': 0, 'highest_modseq': 0,
                      'import_complete': False, 'import_done': 0})
        self.mailbox._log('repair', 'Folder "%s" was renumbered by the server (UIDVALIDITY '
                                    'changed): its messages are being matched again.' % folder.name)
        self.cr.commit()

    def _first_import(self, reader, folder, status):
        since = self.mailbox.import_since_date
        server_uids = reader.search_uids(since=fields.Date.from_string(since) if since else None)
        have = folder._handled_uids(self.version)
        pending = [uid for uid in server_uids if uid not in have]
        folder.write({'uidvalidity': status.uidvalidity, 'import_total': len(server_uids),
                      'import_done': len(server_uids) - len(pending)})
        self.cr.commit()
        # Newest first: a salesperson sees this week's mail within seconds.
        for batch in reader.fetch(imap_folder.newest_first(pending, BATCH_SIZE), BATCH_SIZE):
            handled = self._store_batch(folder, batch)
            folder.write({'import_done': folder.import_done + len(handled)})
            self.cr.commit()
            self._batch_done()
        last_uid = max([status.uidnext - 1] + server_uids)
        folder.write({'import_complete': True, 'last_uid': last_uid,
                      'highest_modseq': status.highestmodseq or 0})
        self.mailbox._log('info', 'Folder "%s": first import done, %d messages.'
                          % (folder.name, folder.import_total))
        self.cr.commit()

    def _fetch_new(self, reader, folder):
        uids = reader.search_uids(min_uid=int(folder.last_uid) + 1)
        for chunk_start in range(0, len(uids), BATCH_SIZE):
            chunk = uids[chunk_start:chunk_start + BATCH_SIZE]
            last = max(chunk)
            for batch in reader.fetch(chunk, BATCH_SIZE):
                handled = set(self._store_batch(folder, batch))
                if self.out_of_time:
                    # Batches come in ascending UIDs: progress goes up to the
                    # first UID that is not done yet.
                    in_order = [m.uid for m in batch]
                    cut = next((i for i, uid in enumerate(in_order) if uid not in handled),
                               len(in_order))
                    last = in_order[cut - 1] if cut else int(folder.last_uid)
                    break
            # Every UID of the chunk up to ``last`` is stored, quarantined or gone.
            folder.write({'last_uid': max(int(folder.last_uid), last)})
            self.cr.commit()
            self._batch_done()

    def _update_flags(self, reader, folder, since_modseq):
        changes = reader.flag_changes(since_modseq)
        if changes:
            folder._set_flags(changes)

    def _remove_vanished(self, reader, folder):
        on_server = set(reader.all_uids())
        gone = folder._stored_uids() - on_server
        if gone:
            folder._unlink_links(gone)
        folder._release_quarantine(list(folder._quarantined_uids(self.version) - on_server))

    def _retry_quarantined(self, reader, folder, uids):
        """Messages quarantined before an upgrade: one more try each."""
        for batch in reader.fetch(uids, BATCH_SIZE):
            self._store_batch(folder, batch)
            self.cr.commit()
            self._batch_done()
        # Gone from the server meanwhile: nothing left to try.
        folder._release_quarantine(folder._stale_quarantine_uids(self.version))

    def _audit(self, reader, folder):
        """Compare what we hold with the server (UID SEARCH ALL) and fetch what is missing."""
        since = self.mailbox.import_since_date
        in_scope = set(reader.search_uids(since=fields.Date.from_string(since) if since else None))
        in_scope |= {uid for uid in reader.all_uids() if uid > folder.last_uid}
        missing = sorted(in_scope - folder._handled_uids(self.version))
        if missing:
            for batch in reader.fetch(missing, BATCH_SIZE):
                self._store_batch(folder, batch)
                self.cr.commit()
                try:
                    self._batch_done()
                except OutOfTime:
                    # The budget is spent: the next run audits again.
                    self.mailbox.write({'audit_stale': True})
                    self.cr.commit()
                    raise
            self.mailbox._log('repair', 'Self-audit: %d message(s) of "%s" were missing and have '
                                        'been fetched.' % (len(missing), folder.name))
        folder._recount_links()  # heals the counter if rows were removed behind our back
        held = len(folder._stored_uids() & in_scope)
        quarantined = len(folder._quarantined_uids(self.version) & in_scope)
        self.audit_counts.append((held, len(in_scope), quarantined))
        folder.write({'audit_missing': len(in_scope) - held, 'last_audit_date': fields.Datetime.now()})

    # --- storing --------------------------------------------------------
    def _store_batch(self, folder, batch):
        """Store a fetched batch, in groups; returns the UIDs the sync is now
        done with (stored or quarantined), in the batch's order. Once the time
        is up it stops between two groups and sets ``out_of_time``: what it
        returns is then the first part of the batch."""
        have = folder._handled_uids(self.version, [m.uid for m in batch])
        fresh = [fetched for fetched in batch if fetched.uid not in have]
        handled = [fetched.uid for fetched in batch if fetched.uid in have]
        group, group_bytes = [], 0
        for index, fetched in enumerate(fresh):
            group.append(fetched)
            group_bytes += len(fetched.raw)
            if len(group) < self._group_size() and group_bytes < GROUP_BYTES \
                    and index + 1 < len(fresh):
                continue
            started = time.monotonic()
            self._store_group(folder, group)
            if self.commit_groups:
                self.cr.commit()
            self.seconds_per_message = (time.monotonic() - started) / len(group)
            handled.extend(m.uid for m in group)
            group, group_bytes = [], 0
            if index + 1 < len(fresh) and time.monotonic() > self.deadline:
                self.out_of_time = True
                break
        if not self.out_of_time:
            return [m.uid for m in batch]
        order = {m.uid: position for position, m in enumerate(batch)}
        return sorted(handled, key=order.get)

    def _group_size(self):
        if self.seconds_per_message is None:
            return FIRST_GROUP
        left = self.deadline - time.monotonic()
        pace = max(self.seconds_per_message, 1e-3)
        if left >= GROUP_SIZE * pace:
            return GROUP_SIZE
        return max(1, int(left / pace))

    def _store_group(self, folder, group):
        """Store a few fetched messages in one savepoint; when that fails, each
        alone, quarantining those that still fail."""
        parsed = [(fetched, mime_parser.parse_message(fetched.raw, self.max_attachment))
                  for fetched in group]
        try:
            with self.cr.savepoint():
                self._store_parsed(folder, parsed)
            return
        except Exception as error:
            if is_transient(error):
                raise
            self.env.clear()   # the ORM cache may hold what the savepoint undid
            if len(parsed) == 1:
                self._quarantine(folder, parsed[0], error)
                return
        for item in parsed:
            try:
                with self.cr.savepoint():
                    self._store_parsed(folder, [item])
            except Exception as error:
                if is_transient(error):
                    raise
                self.env.clear()
                self._quarantine(folder, item, error)

    def _quarantine(self, folder, item, error):
        fetched, parsed = item
        reason = 'database' if isinstance(error, psycopg2.Error) else 'content'
        detail = '%s: %s' % (error.__class__.__name__, str(error).strip().split('\n', 1)[0])
        _logger.warning('Mailbox %s: message %s of folder %s could not be stored (%s)',
                        self.mailbox.id, fetched.uid, folder.id, detail[:300])
        Quarantine = self.env['email.sync.quarantine']
        try:
            with self.cr.savepoint():
                Quarantine._put_aside(folder, fetched, parsed, reason, detail, self.version)
        except Exception as failure:
            if is_transient(failure):
                raise
            # Even what was read of it cannot be kept: keep the place only.
            self.env.clear()
            Quarantine._put_aside(folder, fetched, None, reason, detail, self.version)
        self.quarantined += 1

    def _store_parsed(self, folder, todo):
        """Store parsed messages (``todo``: (FetchedMessage, ParsedMessage) pairs)
        with their folder entries, threads and contacts."""
        Message = self.env['email.sync.message'].with_context(active_test=False)
        todo = self._tell_apart(todo)
        # One query for the whole group: which of these emails are stored already
        # (in another folder, or before a crash)?
        known = {m.message_id: m for m in Message.search([
            ('mailbox_id', '=', self.mailbox.id),
            ('message_id', 'in', list({parsed.message_id for _f, parsed in todo}))])}
        new = [(parsed, fetched.internaldate) for fetched, parsed in todo
               if parsed.message_id not in known]
        if new:
            # The mail rules: internal, blocked or never-log mail keeps only its Message-ID.
            filtered = {parsed.message_id: reason for parsed, reason in (
                (parsed, self.conversations.drop_reason(parsed)) for parsed, _d in new) if reason}
            known.update(Message._create_many_from_parsed(self.mailbox, folder, new, filtered))
            self.conversations.add({
                known[parsed.message_id].id: display_names(parsed)
                for parsed, _d in new if parsed.message_id not in filtered})
        links = []
        for fetched, parsed in todo:
            message = known[parsed.message_id]
            if not message.active and not (message.archived_by_user or message.deleted_by_user
                                           or message.filtered_reason):
                message.active = True  # back in a synced folder
            links.append((message.id, fetched.uid, fetched.flags))
        folder._add_links(links)
        folder._release_quarantine([fetched.uid for fetched, _p in todo])
        self.fetched += len(todo)

    def _tell_apart(self, todo):
        """Emails reusing a Message-ID stored (or met earlier in this group)
        with other content get an id of their own: both are stored, and
        neither replaces the other. Copies of one email (same content key)
        keep the shared id; so do emails stored before content keys existed."""
        ids = tuple({parsed.message_id for _f, parsed in todo})
        self.cr.execute('SELECT message_id, content_key FROM email_sync_message '
                        'WHERE mailbox_id = %s AND message_id IN %s', (self.mailbox.id, ids))
        keys = dict(self.cr.fetchall())
        result = []
        for fetched, parsed in todo:
            key = keys.setdefault(parsed.message_id, parsed.content_key)
            if key and parsed.content_key and key != parsed.content_key:
                parsed = dataclasses.replace(parsed, message_id=mime_parser.variant_message_id(parsed))
            result.append((fetched, parsed))
        return result
