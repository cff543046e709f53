"""One sync run of one mailbox: folders, first import, new mail, flags,
deletions, self-audit. Commits after every batch, so a run killed at any
point resumes where it stopped and never stores anything twice.

Runs in its own cursor (see EmailSyncMailbox._sync_locked); everything it
learns about the server goes through ``lib``.
"""
import logging
import time

from odoo import fields

from ..lib import connection_errors, imap_folder, imap_session, mime_parser, sync_plan
from .conversation_builder import ConversationBuilder, display_names

_logger = logging.getLogger(__name__)

BATCH_SIZE = 100


class OutOfTime(Exception):
    """The run's time budget is spent; the next run continues."""


class MailboxSync:
    def __init__(self, mailbox, deadline):
        self.mailbox = mailbox
        self.env = mailbox.env
        self.cr = mailbox.env.cr
        self.deadline = deadline
        self.max_attachment = mailbox._max_attachment_bytes()
        self.fetched = 0
        self.audit_counts = []   # (held, on the server in scope) per audited folder
        self.conversations = ConversationBuilder(mailbox)

    # --- run ------------------------------------------------------------
    def run(self, audit=False):
        """Sync every selected folder; returns True when nothing is left to do."""
        if self.conversations.add_unplaced():
            self.cr.commit()  # mail stored before conversations existed
        with imap_session.open_session(self.mailbox._server_settings()) as session:
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
        if time.monotonic() > self.deadline:
            raise OutOfTime()

    # --- one folder -----------------------------------------------------
    def _sync_folder(self, session, folder, audit):
        reader = imap_folder.FolderReader(session, folder.name)
        status = reader.status()
        stored = folder._stored_state()
        plan = sync_plan.plan_folder(stored, status)
        folder.write({'server_count': status.messages, 'last_sync_date': fields.Datetime.now()})
        if plan.idle and not audit:
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
        if audit:
            self._audit(reader, folder)
        self.cr.commit()

    def _forget_uids(self, folder, status):
        """UIDVALIDITY changed: stored UIDs mean nothing now. Messages stay;
        re-importing matches them by Message-ID, so nothing is duplicated."""
        folder._unlink_links(archive_orphans=False)
        folder.write({'uidvalidity': status.uidvalidity, 'last_uid': 0, 'highest_modseq': 0,
                      'import_complete': False, 'import_done': 0})
        self.mailbox._log('repair', 'Folder "%s" was renumbered by the server (UIDVALIDITY '
                                    'changed): its messages are being matched again.' % folder.name)
        self.cr.commit()

    def _first_import(self, reader, folder, status):
        since = self.mailbox.import_since_date
        server_uids = reader.search_uids(since=fields.Date.from_string(since) if since else None)
        have = folder._stored_uids()
        pending = [uid for uid in server_uids if uid not in have]
        folder.write({'uidvalidity': status.uidvalidity, 'import_total': len(server_uids),
                      'import_done': len(server_uids) - len(pending)})
        self.cr.commit()
        # Newest first: a salesperson sees this week's mail within seconds.
        for batch in reader.fetch(imap_folder.newest_first(pending, BATCH_SIZE), BATCH_SIZE):
            stored = self._store_batch(folder, batch)
            folder.write({'import_done': folder.import_done + stored})
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
            for batch in reader.fetch(chunk, BATCH_SIZE):
                self._store_batch(folder, batch)
            # Every UID of the chunk is stored or gone from the server.
            folder.write({'last_uid': max(int(folder.last_uid), max(chunk))})
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

    def _audit(self, reader, folder):
        """Compare what we hold with the server (UID SEARCH ALL) and fetch what is missing."""
        since = self.mailbox.import_since_date
        in_scope = set(reader.search_uids(since=fields.Date.from_string(since) if since else None))
        in_scope |= {uid for uid in reader.all_uids() if uid > folder.last_uid}
        missing = sorted(in_scope - folder._stored_uids())
        if missing:
            for batch in reader.fetch(missing, BATCH_SIZE):
                self._store_batch(folder, batch)
                self.cr.commit()
                self.env.cache.invalidate()
            self.mailbox._log('repair', 'Self-audit: %d message(s) of "%s" were missing and have '
                                        'been fetched.' % (len(missing), folder.name))
        folder._recount_links()  # heals the counter if rows were removed behind our back
        held = len(folder._stored_uids() & in_scope)
        self.audit_counts.append((held, len(in_scope)))
        folder.write({'audit_missing': len(in_scope) - held, 'last_audit_date': fields.Datetime.now()})

    # --- storing --------------------------------------------------------
    def _store_batch(self, folder, batch):
        """Store a fetched batch; returns how many folder entries were added."""
        Message = self.env['email.sync.message'].with_context(active_test=False)
        have = folder._stored_uids([m.uid for m in batch])
        todo = [(fetched, mime_parser.parse_message(fetched.raw, self.max_attachment))
                for fetched in batch if fetched.uid not in have]
        if not todo:
            return 0
        # One query for the whole batch: which of these emails are stored already
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
        self.fetched += len(todo)
        return len(todo)
