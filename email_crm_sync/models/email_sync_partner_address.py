from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib import address_rules


class EmailSyncPartnerAddress(models.Model):
    """An additional email address of a contact (the primary one is its Email)."""
    _name = 'email.sync.partner.address'
    _description = 'Additional email address of a contact'
    _order = 'partner_id, id'
    _rec_name = 'email'

    partner_id = fields.Many2one('res.partner', 'Contact', required=True, index=True,
                                 ondelete='cascade')
    email = fields.Char(required=True)
    email_normalized = fields.Char(compute='_compute_email_normalized', store=True, index=True)

    _sql_constraints = [
        ('partner_email_unique', 'unique(partner_id, email_normalized)',
         'This contact has this address already.'),
    ]

    @api.depends('email')
    def _compute_email_normalized(self):
        for address in self:
            address.email_normalized = address_rules.normalize(address.email) or False

    @api.constrains('email')
    def _check_email(self):
        for address in self:
            if not address.email_normalized:
                raise ValidationError(_('"%s" is not an email address.') % address.email)
