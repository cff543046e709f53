from odoo.exceptions import AccessError

from .common import EmailSyncCase

SECRET = 'correct horse battery staple'


class TestMailboxOwnership(EmailSyncCase):

    def test_owner_sees_own_mailbox_colleague_does_not(self):
        mailbox = self.mailbox_of(self.alice)
        Mailbox = self.env['email.sync.mailbox']
        self.assertEqual(Mailbox.sudo(self.alice).search([]), mailbox)
        self.assertFalse(Mailbox.sudo(self.bob).search([]))
        with self.assertRaises(AccessError):
            mailbox.sudo(self.bob).read(['email'])
        with self.assertRaises(AccessError):
            mailbox.sudo(self.bob).write({'imap_host': 'evil.example.com'})
        with self.assertRaises(AccessError):
            mailbox.sudo(self.bob).unlink()

    def test_settings_admin_cannot_open_someone_elses_mailbox(self):
        mailbox = self.mailbox_of(self.alice)
        with self.assertRaises(AccessError):
            mailbox.sudo(self.admin).read(['email'])

    def test_manager_sees_state_of_all_but_edits_only_own(self):
        mailbox = self.mailbox_of(self.alice)
        as_manager = mailbox.sudo(self.manager)
        self.assertEqual(as_manager.read(['state'])[0]['state'], 'draft')
        with self.assertRaises(AccessError):
            as_manager.write({'imap_host': 'evil.example.com'})

    def test_new_mailbox_belongs_to_its_creator_with_provider_settings(self):
        mailbox = self.mailbox_of(self.alice)
        self.assertEqual(mailbox.user_id, self.alice)
        self.assertEqual((mailbox.imap_host, mailbox.imap_port, mailbox.imap_security),
                         ('imap.gmail.com', 993, 'ssl'))
        self.assertEqual(mailbox.login, 'alice@example.com')
        self.assertEqual(mailbox.name, 'alice@example.com')


class TestMailboxPassword(EmailSyncCase):

    def test_password_is_never_read_back(self):
        mailbox = self.mailbox_of(self.alice)
        for user in (self.alice, self.manager):
            values = mailbox.sudo(user).read()[0]
            self.assertNotIn(SECRET, repr(values))
            self.assertFalse(values['password'])
        self.assertTrue(mailbox.sudo(self.alice).has_password)

    def test_no_field_exposes_the_stored_secret(self):
        mailbox = self.mailbox_of(self.alice)
        fields = self.env['email.sync.mailbox'].sudo(self.alice).fields_get()
        self.assertFalse([name for name in fields if 'secret' in name or 'cipher' in name])
        with self.assertRaises(ValueError):
            mailbox.sudo(self.alice).search([('secret_ciphertext', '!=', False)])
        exported = mailbox.sudo(self.alice).export_data(['password', 'email'])['datas']
        self.assertEqual(exported, [['', 'alice@example.com']])

    def test_password_is_encrypted_at_rest(self):
        mailbox = self.mailbox_of(self.alice)
        self.env.cr.execute('SELECT secret_ciphertext FROM email_sync_mailbox WHERE id = %s',
                            (mailbox.id,))
        stored = self.env.cr.fetchone()[0]
        self.assertTrue(stored)
        self.assertNotIn(SECRET, stored)
        self.assertNotIn('horse', stored)
        self.assertEqual(mailbox._get_password(), SECRET)

    def test_saving_the_form_with_a_blank_password_keeps_the_stored_one(self):
        mailbox = self.mailbox_of(self.alice)
        mailbox.sudo(self.alice).write({'password': False, 'name': 'Work'})
        self.assertEqual(mailbox._get_password(), SECRET)
        mailbox.sudo(self.alice).write({'password': 'new secret'})
        self.assertEqual(mailbox._get_password(), 'new secret')

    def test_a_duplicate_does_not_carry_the_password(self):
        mailbox = self.mailbox_of(self.alice)
        copy = mailbox.sudo(self.alice).copy({'email': 'other@example.com'})
        self.assertFalse(copy.has_password)
        self.assertIsNone(copy._get_password())


class TestMailboxState(EmailSyncCase):

    def test_new_password_after_auth_failure_allows_retrying(self):
        mailbox = self.mailbox_of(self.alice)
        mailbox.write({'state': 'auth_failed', 'last_error': 'The server refused the login.'})
        mailbox.sudo(self.alice).write({'password': 'the right one'})
        self.assertEqual(mailbox.state, 'draft')

    def test_changing_the_server_resets_the_connection_state(self):
        mailbox = self.mailbox_of(self.alice)
        mailbox.write({'state': 'ok'})
        mailbox.sudo(self.alice).write({'imap_host': 'imap.example.net'})
        self.assertEqual(mailbox.state, 'draft')

    def test_test_connection_without_password_says_what_is_missing(self):
        mailbox = self.mailbox_of(self.alice, password=False)
        with self.assertRaisesRegex(Exception, 'Enter the password'):
            mailbox.sudo(self.alice).action_test_connection()


class TestSyncScheduling(EmailSyncCase):

    def test_scheduler_skips_refused_logins_and_unconnected_mailboxes(self):
        ok = self.mailbox_of(self.alice, email='ok@example.com')
        refused = self.mailbox_of(self.alice, email='refused@example.com')
        draft = self.mailbox_of(self.bob)
        later = self.mailbox_of(self.bob, email='later@example.com')
        failing = self.mailbox_of(self.bob, email='failing@example.com')
        ok.write({'state': 'ok'})
        refused.write({'state': 'auth_failed'})
        later.write({'state': 'ok', 'next_sync_date': '2999-01-01 00:00:00'})
        failing.write({'state': 'error', 'next_sync_date': '2000-01-01 00:00:00'})
        due = self.env['email.sync.mailbox']._due_for_sync()
        self.assertEqual(due & (ok | refused | draft | later | failing), failing | ok)
        self.assertEqual(due.ids[:2], [ok.id, failing.id],
                         'never synced first, then the longest waiting')

    def test_lookback_is_chosen_per_mailbox_default_90_days(self):
        self.assertEqual(self.mailbox_of(self.alice).lookback, '90')
