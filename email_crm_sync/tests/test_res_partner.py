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
