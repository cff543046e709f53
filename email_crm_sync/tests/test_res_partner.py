"""Contacts made from mail of every kind stay readable."""
from odoo.tests.common import TransactionCase


class TestInternationalAddresses(TransactionCase):

    def test_a_contact_with_an_address_in_unicode_can_be_read(self):
        partner = self.env['res.partner'].create({'name': 'Jörg "JJ" Müller',
                                                  'email': 'jörg@bücher.example'})
        values = partner.read(['email_formatted', 'email_sync_normalized'])[0]
        self.assertEqual(values['email_formatted'], "\"Jörg 'JJ' Müller\" <jörg@bücher.example>")
        self.assertEqual(values['email_sync_normalized'], 'jörg@bücher.example')
        ascii_partner = self.env['res.partner'].create({'name': 'Ann', 'email': 'ann@example.com'})
        self.assertEqual(ascii_partner.email_formatted, 'Ann <ann@example.com>')


class TestNewContactForm(TransactionCase):

    def test_a_contact_being_created_counts_no_conversation(self):
        # The contact form computes these before the contact is saved (no id yet).
        partner = self.env['res.partner'].new({'name': 'New', 'email': 'new@customer.example'})
        self.assertEqual(partner.email_sync_thread_count, 0)
        self.assertFalse(partner.email_sync_thread_ids)
