import re
import threading

from odoo import SUPERUSER_ID, _, api, models
from odoo.exceptions import AccessError

EDITOR_GROUP = 'email_crm_sync.group_mail_template_editor'
# Odoo 11's template syntax: ${expression}, <% block %>, and "% statement" lines.
_TEMPLATE_CODE = re.compile(r'\$\{|<%|^\s*%', re.MULTILINE)

# Set while a stored template renders (generate_email): its text was written by
# a template editor. A thread-local, so that no caller can set it through RPC
# the way a context key could be.
_stored_rendering = threading.local()


class MailTemplate(models.Model):
    """Template code runs with the power of Odoo's Jinja sandbox, which
    reaches any record (``object.env[...].sudo()``): writing it, and rendering
    code that is not a stored template, is for template editors
    (administrators by default), as in later Odoo versions. Everybody keeps
    using the templates that exist."""
    _inherit = 'mail.template'

    def _check_template_editor(self):
        if self.env.uid != SUPERUSER_ID and not self.env.user.has_group(EDITOR_GROUP):
            raise AccessError(_('Only template editors may write or render template code.'))

    @api.model
    def create(self, values):
        self._check_template_editor()
        return super(MailTemplate, self).create(values)

    @api.multi
    def write(self, values):
        self._check_template_editor()
        return super(MailTemplate, self).write(values)

    @api.multi
    def unlink(self):
        self._check_template_editor()
        return super(MailTemplate, self).unlink()

    @api.multi
    def generate_email(self, res_ids, fields=None):
        depth = getattr(_stored_rendering, 'depth', 0)
        _stored_rendering.depth = depth + 1
        try:
            return super(MailTemplate, self).generate_email(res_ids, fields=fields)
        finally:
            _stored_rendering.depth = depth

    @api.model
    def render_template(self, template_txt, model, res_ids, post_process=False):
        if (template_txt and not getattr(_stored_rendering, 'depth', 0)
                and _TEMPLATE_CODE.search(template_txt)):
            self._check_template_editor()
        return super(MailTemplate, self).render_template(template_txt, model, res_ids,
                                                         post_process=post_process)
