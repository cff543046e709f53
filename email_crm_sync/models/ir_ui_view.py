from odoo import _, models


class IrUiView(models.Model):
    """QWeb views (their expressions run as Python) go to the email sync audit log."""
    _name = 'ir.ui.view'
    _inherit = ['ir.ui.view', 'email.sync.audited.mixin']
    _audit_kind = 'view'

    def _audited_records(self):
        return self.filtered(lambda v: v.type == 'qweb')

    def _audit_description(self):
        return _('QWeb view "%s" (%s)') % (self.name, self.key or self.xml_id or self.id)
