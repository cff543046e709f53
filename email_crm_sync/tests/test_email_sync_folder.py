from odoo.exceptions import AccessError, ValidationError

from ..lib.imap_session import FolderInfo
from .common import EmailSyncCase


def listing(*rows):
    return [FolderInfo(name=name, delimiter='/', flags=tuple(flags), special_use=role,
                       selectable=True) for name, flags, role in rows]


class TestFolderListing(EmailSyncCase):

    def setUp(self):
        super(TestFolderListing, self).setUp()
        self.mailbox = self.mailbox_of(self.alice)
        self.Folder = self.env['email.sync.folder'].sudo(self.alice)

    def folders(self):
        return {f.name: f for f in self.Folder.with_context(active_test=False).search(
            [('mailbox_id', '=', self.mailbox.id)])}

    def test_junk_trash_drafts_are_listed_but_not_synced(self):
        self.Folder._merge_listing(self.mailbox.sudo(self.alice), listing(
            ('INBOX', [], 'inbox'), ('Sent', ['\\Sent'], 'sent'), ('Junk', ['\\Junk'], 'junk'),
            ('Trash', ['\\Trash'], 'trash'), ('Drafts', ['\\Drafts'], 'drafts'),
            ('Clients/ACME', [], 'none')))
        synced = {name: f.sync_enabled for name, f in self.folders().items()}
        self.assertEqual(synced, {'INBOX': True, 'Sent': True, 'Junk': False, 'Trash': False,
                                  'Drafts': False, 'Clients/ACME': True})
        with self.assertRaises(ValidationError):
            self.folders()['Junk'].write({'sync_enabled': True})

    def test_relisting_updates_keeps_choices_and_archives_vanished_folders(self):
        self.Folder._merge_listing(self.mailbox, listing(
            ('INBOX', [], 'inbox'), ('Projects', [], 'none'), ('Old', [], 'none')))
        self.folders()['Projects'].write({'sync_enabled': False})
        self.Folder._merge_listing(self.mailbox, listing(
            ('INBOX', [], 'inbox'), ('Projects', ['\\HasNoChildren'], 'none')))
        folders = self.folders()
        self.assertEqual(len(folders), 3)
        self.assertFalse(folders['Projects'].sync_enabled)
        self.assertEqual(folders['Projects'].flags, '\\HasNoChildren')
        self.assertFalse(folders['Old'].active)
        self.Folder._merge_listing(self.mailbox, listing(('Old', [], 'none')))
        self.assertTrue(self.folders()['Old'].active)

    def test_colleague_cannot_see_or_fill_anothers_folders(self):
        self.Folder._merge_listing(self.mailbox, listing(('INBOX', [], 'inbox')))
        self.assertFalse(self.env['email.sync.folder'].sudo(self.bob).search([]))
        with self.assertRaises(AccessError):
            self.env['email.sync.folder'].sudo(self.bob)._merge_listing(
                self.mailbox.sudo(self.bob), listing(('Spoofed', [], 'none')))
