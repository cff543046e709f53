from odoo import _, models


class IrRule(models.Model):
    """Changes to record rules go to the email sync audit log."""
    _name = 'ir.rule'
    _inherit = ['ir.rule', 'email.sync.audited.mixin']
    _audit_kind = 'rule'

    def _audit_description(self):
        return _('Record rule "%s" on %s: %s') % (
            self.name or '', self.model_id.model, self.domain_force or '[]')
