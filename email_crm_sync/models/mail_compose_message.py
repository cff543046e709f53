from odoo import _, api, models
from odoo.exceptions import AccessError

from .mail_template import has_template_code, is_template_editor, stored_template_rendering

# The composer's texts that mass mail renders, and the template field each comes from.
RENDERED_FROM_TEMPLATE = (('subject', 'subject'), ('body', 'body_html'),
                          ('email_from', 'email_from'), ('reply_to', 'reply_to'))


class MailComposeMessage(models.TransientModel):
    """Mass mail in Odoo 11 renders the composer's copy of its template's
    text. Someone who is no template editor may send it as long as every
    text with code is still the template's own (as the composer stores it);
    code of their own is refused by the template's rendering."""
    _inherit = 'mail.compose.message'

    @api.multi
    def render_message(self, res_ids):
        if is_template_editor(self.env):
            return super(MailComposeMessage, self).render_message(res_ids)
        for composer_field, template_field in RENDERED_FROM_TEMPLATE:
            text = self[composer_field]
            if not has_template_code(text):
                continue
            stored = self.template_id[template_field] if self.template_id else None
            if stored is None or self._fields[composer_field].convert_to_cache(
                    stored, self, validate=True) != text:
                raise AccessError(_('Only template editors may write or render template code.'))
        with stored_template_rendering():
            return super(MailComposeMessage, self).render_message(res_ids)
