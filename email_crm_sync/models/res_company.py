from odoo import fields, models

from ..lib import address_rules, visibility

SHARING = [
    (visibility.PRIVATE, 'Private: only the mailbox owner'),
    (visibility.SHARED, 'Shared with the company'),
]
SHARE_LEVELS = [
    (visibility.METADATA, 'Metadata only (people, dates, direction)'),
    (visibility.SUBJECT, 'Subject and metadata'),
    (visibility.FULL, 'Full content, with bodies and attachments'),
]


class ResCompany(models.Model):
    """Company-wide rules of what synced mail is kept and who becomes a contact."""
    _inherit = 'res.company'

    email_sync_internal_domains = fields.Char(
        'Internal domains',
        help='Your company\'s own domains (comma-separated). Mail among these domains only is not '
             'synced. Free mail providers (gmail.com, outlook.com, ...) never count.')
    email_sync_never_log = fields.Text(
        'Never log',
        help='Addresses and domains whose mail is never synced, for everybody.')
    email_sync_create_contacts = fields.Boolean(
        'Create contacts from mail', default=True,
        help='Unknown people who write or are written to become contacts.')
    email_sync_impersonal = fields.Text(
        'Impersonal addresses', default=lambda self: address_rules.impersonal_text(),
        help='Addresses that never become contacts: "*noreply*" matches anywhere in the part '
             'before the @, "info" matches that whole part.')

    email_sync_default_sharing = fields.Selection(
        SHARING, 'Default sharing of new mailboxes', default=visibility.PRIVATE, required=True)
    email_sync_default_share_level = fields.Selection(
        SHARE_LEVELS, 'Default level of shared mail', default=visibility.METADATA, required=True,
        help='What colleagues see of shared conversations linked to contacts or deals they can read.')

    email_sync_tracking_disabled = fields.Boolean(
        'Disable email tracking',
        help='No open or click tracking in emails written from the CRM, whatever users chose '
             '(for example where recipients have not consented to tracking).')

    def _email_sync_rules(self):
        """The company's lists, parsed once for a sync run."""
        self.ensure_one()
        return {
            'own_domains': address_rules.parse_entries(self.email_sync_internal_domains),
            'never_log': address_rules.parse_entries(self.email_sync_never_log),
            'impersonal': address_rules.parse_impersonal(self.email_sync_impersonal),
            'create_contacts': self.email_sync_create_contacts,
        }
