import contextlib
import threading

from jinja2 import nodes

from odoo import SUPERUSER_ID, _, api, models
from odoo.exceptions import AccessError
from odoo.addons.mail.models.mail_template import mako_template_env

EDITOR_GROUP = 'email_crm_sync.group_mail_template_editor'

# Set while a stored template renders (generate_email, or a mail composer
# rendering its template's text): that text was written by a template editor.
# A thread-local, so that no caller can set it through RPC the way a context
# key could be.
_stored_rendering = threading.local()


@contextlib.contextmanager
def stored_template_rendering():
    depth = getattr(_stored_rendering, 'depth', 0)
    _stored_rendering.depth = depth + 1
    try:
        yield
    finally:
        _stored_rendering.depth = depth


def has_template_code(text):
    """Whether Odoo's template engine would run anything in ``text``: asked of
    the engine itself (its own parser, its own line splitting), so that no
    spelling of a statement gets past it."""
    if not text:
        return False
    try:
        tree = mako_template_env.parse(text)
    except Exception:
        return True  # what the engine cannot read is no plain text
    return any(not isinstance(node, nodes.Output)
               or any(not isinstance(child, nodes.TemplateData) for child in node.nodes)
               for node in tree.body)


def is_template_editor(env):
    return env.uid == SUPERUSER_ID or env.user.has_group(EDITOR_GROUP)


class MailTemplate(models.Model):
    """Template code runs with the power of Odoo's Jinja sandbox, which
    reaches any record (``object.env[...].sudo()``): writing it, and rendering
    code that is not a stored template, is for template editors
    (administrators by default), as in later Odoo versions. Everybody keeps
    using the templates that exist."""
    _name = 'mail.template'
    _inherit = ['mail.template', 'email.sync.audited.mixin']
    _audit_kind = 'template'

    def _audit_description(self):
        return _('Mail template "%s" on %s') % (self.name, self.model_id.model or '-')

    def _check_template_editor(self):
        if not is_template_editor(self.env):
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
        with stored_template_rendering():
            return super(MailTemplate, self).generate_email(res_ids, fields=fields)

    @api.model
    def render_template(self, template_txt, model, res_ids, post_process=False):
        if not getattr(_stored_rendering, 'depth', 0) and has_template_code(template_txt):
            self._check_template_editor()
        return super(MailTemplate, self).render_template(template_txt, model, res_ids,
                                                         post_process=post_process)
