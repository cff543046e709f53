from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib import special_use


class EmailSyncFolder(models.Model):
    """A folder (or Gmail label) of a mailbox, as the server listed it."""
    _name = 'email.sync.folder'
    _description = 'Mailbox folder'
    _order = 'mailbox_id, special_use_order, name'

    name = fields.Char(required=True, readonly=True, help='Full folder path on the server.')
    mailbox_id = fields.Many2one('email.sync.mailbox', required=True, index=True,
                                 ondelete='cascade', readonly=True)
    user_id = fields.Many2one(related='mailbox_id.user_id', store=True, readonly=True)
    active = fields.Boolean(default=True, help='Unticked when the folder is gone from the server.')
    delimiter = fields.Char(readonly=True)
    flags = fields.Char(readonly=True, help='Attributes the server listed (RFC 3501, RFC 6154).')
    special_use = fields.Selection(special_use.LABELS, 'Role', required=True, default='none',
                                   readonly=True)
    special_use_order = fields.Integer(compute='_compute_special_use_order', store=True)
    selectable = fields.Boolean(default=True, readonly=True)
    sync_enabled = fields.Boolean(
        'Sync', default=True,
        help='Mail in this folder is brought into the CRM. Junk, Trash and Drafts never are.')

    # Sync state. UIDs, UIDVALIDITY and MODSEQ are unsigned 32/63-bit numbers:
    # stored as numeric(20, 0) since Odoo 11 integers are 32-bit signed.
    uidvalidity = fields.Float('UIDVALIDITY', digits=(20, 0), readonly=True, copy=False)
    last_uid = fields.Float('Last UID', digits=(20, 0), readonly=True, copy=False)
    highest_modseq = fields.Float('HIGHESTMODSEQ', digits=(20, 0), readonly=True, copy=False)
    server_count = fields.Integer('Messages on the server', readonly=True, copy=False)
    import_complete = fields.Boolean(readonly=True, copy=False)
    import_total = fields.Integer(readonly=True, copy=False)
    import_done = fields.Integer(readonly=True, copy=False)
    import_progress = fields.Float(compute='_compute_import_progress')
    last_sync_date = fields.Datetime(readonly=True, copy=False)
    last_audit_date = fields.Datetime(readonly=True, copy=False)
    audit_missing = fields.Integer(readonly=True, copy=False)
    # Kept up to date by _add_links/_unlink_links, recounted by the daily
    # self-audit: a sync run with nothing new then never counts rows.
    link_count = fields.Integer('Messages in the CRM', readonly=True, copy=False)

    _sql_constraints = [
        ('mailbox_name_unique', 'unique(mailbox_id, name)', 'A folder is listed once per mailbox.'),
    ]

    @api.depends('special_use')
    def _compute_special_use_order(self):
        order = [code for code, _label in special_use.LABELS]
        for folder in self:
            folder.special_use_order = order.index(folder.special_use or 'none')

    @api.depends('import_total', 'import_done', 'import_complete')
    def _compute_import_progress(self):
        for folder in self:
            if folder.import_complete or not folder.import_total:
                folder.import_progress = 100.0 if folder.import_complete else 0.0
            else:
                folder.import_progress = 100.0 * folder.import_done / folder.import_total

    # --- what the sync engine reads and writes (SQL: hot paths) ----------
    def _stored_state(self):
        from ..lib.sync_plan import StoredFolder
        self.ensure_one()
        # Quarantined messages are accounted for: without them, a folder holding
        # one would look changed at every run.
        self.env.cr.execute('SELECT count(*) FROM email_sync_quarantine WHERE folder_id = %s',
                            (self.id,))
        quarantined = self.env.cr.fetchone()[0]
        return StoredFolder(uidvalidity=int(self.uidvalidity), last_uid=int(self.last_uid),
                            highest_modseq=int(self.highest_modseq),
                            stored_count=self.link_count + quarantined,
                            import_complete=self.import_complete)

    def _recount_links(self):
        self.env.cr.execute("""
            UPDATE email_sync_folder f SET link_count = (
                SELECT count(*) FROM email_sync_message_folder l WHERE l.folder_id = f.id)
            WHERE f.id IN %s""", (tuple(self.ids),))
        self.invalidate_cache(['link_count'], self.ids)

    def _count_links(self, delta):
        if delta:
            self.env.cr.execute('UPDATE email_sync_folder SET link_count = link_count + %s '
                                'WHERE id = %s', (delta, self.id))
            self.invalidate_cache(['link_count'], self.ids)

    def _stored_uids(self, among=None):
        """UIDs stored for this folder (optionally only those in ``among``)."""
        self.ensure_one()
        if among is None:
            self.env.cr.execute('SELECT uid FROM email_sync_message_folder WHERE folder_id = %s',
                                (self.id,))
        else:
            if not among:
                return set()
            self.env.cr.execute('SELECT uid FROM email_sync_message_folder '
                                'WHERE folder_id = %s AND uid IN %s', (self.id, tuple(among)))
        return {int(row[0]) for row in self.env.cr.fetchall()}

    def _quarantined_uids(self, version, among=None):
        """UIDs of this folder's messages that could not be stored by this
        install of the addon (``version``): not fetched again until an upgrade."""
        self.ensure_one()
        query = 'SELECT uid FROM email_sync_quarantine WHERE folder_id = %s AND module_version = %s'
        params = [self.id, version]
        if among is not None:
            if not among:
                return set()
            query += ' AND uid IN %s'
            params.append(tuple(among))
        self.env.cr.execute(query, params)
        return {int(row[0]) for row in self.env.cr.fetchall()}

    def _handled_uids(self, version, among=None):
        """UIDs the sync is done with: stored, or quarantined by this version."""
        return self._stored_uids(among) | self._quarantined_uids(version, among)

    def _stale_quarantine_uids(self, version):
        """Quarantined by an earlier install or upgrade: worth one more try."""
        self.ensure_one()
        self.env.cr.execute('SELECT uid FROM email_sync_quarantine WHERE folder_id = %s '
                            'AND module_version IS DISTINCT FROM %s ORDER BY uid', (self.id, version))
        return [int(row[0]) for row in self.env.cr.fetchall()]

    def _release_quarantine(self, uids=None):
        """Forget quarantined messages: stored after all, gone from the server,
        or renumbered (all of them when ``uids`` is None)."""
        self.ensure_one()
        if uids is None:
            self.env.cr.execute('DELETE FROM email_sync_quarantine WHERE folder_id = %s', (self.id,))
        elif uids:
            self.env.cr.execute('DELETE FROM email_sync_quarantine WHERE folder_id = %s '
                                'AND uid IN %s', (self.id, tuple(uids)))

    def _add_links(self, rows):
        """Record where emails are: ``rows`` of (message id, UID, flags), one statement."""
        if not rows:
            return
        from psycopg2.extras import execute_values
        user_id = self.mailbox_id.user_id.id
        added = execute_values(self.env.cr._obj, """
            INSERT INTO email_sync_message_folder
                (message_id, folder_id, user_id, uid, flags, create_uid, write_uid, create_date, write_date)
            VALUES %s ON CONFLICT (folder_id, uid) DO NOTHING RETURNING 1""",
            [(message_id, self.id, user_id, uid, ' '.join(flags), self.env.uid, self.env.uid)
             for message_id, uid, flags in rows],
            template="(%s, %s, %s, %s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')",
            fetch=True)
        self._count_links(len(added))

    def _set_flags(self, flags_by_uid):
        for uid, flags in flags_by_uid.items():
            self.env.cr.execute('UPDATE email_sync_message_folder SET flags = %s '
                                'WHERE folder_id = %s AND uid = %s', (' '.join(flags), self.id, uid))

    def _unlink_links(self, uids=None, archive_orphans=True):
        """Forget where messages were (all, or the given UIDs). A message left
        in no folder at all is archived: gone from the mailbox, gone from view."""
        self.ensure_one()
        if uids is None:
            self.env.cr.execute('DELETE FROM email_sync_message_folder WHERE folder_id = %s '
                                'RETURNING message_id', (self.id,))
        else:
            self.env.cr.execute('DELETE FROM email_sync_message_folder WHERE folder_id = %s '
                                'AND uid IN %s RETURNING message_id', (self.id, tuple(uids)))
        removed = self.env.cr.fetchall()
        self._count_links(-len(removed))
        touched = tuple({row[0] for row in removed})
        if touched:
            # Emails still elsewhere are now grouped under one of their other folders.
            self.env.cr.execute("""
                UPDATE email_sync_message m SET folder_id = (
                    SELECT l.folder_id FROM email_sync_message_folder l
                    WHERE l.message_id = m.id ORDER BY l.id LIMIT 1)
                WHERE m.id IN %s AND m.folder_id = %s""", (touched, self.id))
            self.env['email.sync.message'].invalidate_cache(['folder_id'], list(touched))
        if touched and archive_orphans:
            self.env.cr.execute("""
                UPDATE email_sync_message SET active = false
                WHERE id IN %s AND NOT EXISTS (
                    SELECT 1 FROM email_sync_message_folder l WHERE l.message_id = email_sync_message.id)""",
                (touched,))
            self.env['email.sync.message'].invalidate_cache(['active'], list(touched))
        return len(touched)

    @api.constrains('sync_enabled', 'special_use')
    def _check_never_synced(self):
        for folder in self:
            if folder.sync_enabled and not special_use.synced_by_default(folder.special_use):
                raise ValidationError(_('Junk, Trash and Drafts folders are never synced (%s).')
                                      % folder.name)

    @api.model
    def _merge_listing(self, mailbox, listing):
        """Store a LIST answer: add new folders, update known ones, archive vanished ones.

        Folders are the server's, not the user's to create: this runs as
        superuser once the caller has shown it may write the mailbox.
        """
        mailbox.check_access_rights('write')
        mailbox.check_access_rule('write')
        self = self.sudo()
        known = {f.name: f for f in self.with_context(active_test=False).search(
            [('mailbox_id', '=', mailbox.id)])}
        seen = set()
        for info in listing:
            seen.add(info.name)
            values = {
                'delimiter': info.delimiter,
                'flags': ' '.join(info.flags),
                'special_use': info.special_use,
                'selectable': info.selectable,
                'active': True,
            }
            folder = known.get(info.name)
            if folder:
                folder.write(values)
            else:
                values.update(name=info.name, mailbox_id=mailbox.id,
                              sync_enabled=info.selectable and special_use.synced_by_default(info.special_use))
                self.create(values)
        gone = [f for name, f in known.items() if name not in seen and f.active]
        for folder in gone:
            folder.active = False
