from odoo import _, models


class IrActionsServer(models.Model):
    """Server actions running Python code go to the email sync audit log."""
    _name = 'ir.actions.server'
    _inherit = ['ir.actions.server', 'email.sync.audited.mixin']
    _audit_kind = 'code'

    def _audited_records(self):
        # Only actions running Python code can reach mail past the rules.
        return self.filtered(lambda a: a.state == 'code')

    def _audit_description(self):
        return _('Server action "%s" on %s runs Python code:\n%s') % (
            self.name, self.model_id.model, self.code or '')
