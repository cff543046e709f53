from odoo import _, api, models

from .mail_message import NEUTRAL_NAMED


class MailActivity(models.Model):
    """The document name stored on an activity is shown to whoever sees the
    activity: neutral for conversations and emails."""
    _inherit = 'mail.activity'

    @api.depends('res_model', 'res_id')
    def _compute_res_name(self):
        neutral = self.filtered(lambda a: a.res_model in NEUTRAL_NAMED)
        for activity in neutral:
            activity.res_name = _('Email conversation')
        super(MailActivity, self - neutral)._compute_res_name()
