from .common import EmailSyncCase


class TestEmailSyncSettings(EmailSyncCase):

    def test_settings_are_saved_where_the_sync_reads_them(self):
        settings = self.env['res.config.settings'].sudo(self.admin).create({
            'email_sync_interval_minutes': 3, 'email_sync_max_attachment_mb': 7,
            'email_sync_propagate_archive': True})
        settings.execute()
        mailbox = self.mailbox_of(self.alice)
        self.assertEqual(mailbox._sync_interval(), 3)
        self.assertEqual(mailbox._max_attachment_bytes(), 7 * 1024 * 1024)
        self.assertTrue(self.env['email.sync.message']._propagation_enabled())

    def test_defaults_ten_minutes_fifty_megabytes_no_propagation(self):
        mailbox = self.mailbox_of(self.alice)
        self.assertEqual(mailbox._sync_interval(), 10)
        self.assertEqual(mailbox._max_attachment_bytes(), 50 * 1024 * 1024)
        self.assertFalse(self.env['email.sync.message']._propagation_enabled())
