"""The end of "Sign in with ...": the provider sends the user back here.

The route only hands the provider's answer to the mailbox model
(``_oauth_finish``), which checks the state against this user's session and
stores the tokens; then it tests the connection and lands the user back on
the mailbox form, or shows what went wrong in plain words.

The query string of this route carries a one-time authorization code:
Odoo's request log would write it down, so it is cut from the log lines.
"""
import logging
import re

import werkzeug.utils

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from ..models.email_sync_oauth_app import CALLBACK_PATH

_logger = logging.getLogger(__name__)
_CALLBACK_QUERY = re.compile(re.escape(CALLBACK_PATH) + r'\?[^\s"]*')


class CallbackQueryFilter(logging.Filter):
    """Drops the query string of the callback from request log lines."""

    def filter(self, record):
        if isinstance(record.msg, str) and CALLBACK_PATH in record.msg:
            record.msg = _CALLBACK_QUERY.sub(CALLBACK_PATH + '?...', record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(_CALLBACK_QUERY.sub(CALLBACK_PATH + '?...', arg)
                                if isinstance(arg, str) else arg for arg in record.args)
        return True


def _install_log_filter():
    werkzeug_logger = logging.getLogger('werkzeug')
    if not any(isinstance(f, CallbackQueryFilter) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(CallbackQueryFilter())


_install_log_filter()


class OAuthCallbackController(http.Controller):

    @http.route(CALLBACK_PATH, type='http', auth='user', methods=['GET'], csrf=False)
    def oauth_callback(self, state=None, code=None, error=None, **_kwargs):
        mailboxes = request.env['email.sync.mailbox']
        mailbox, problem, params = mailboxes._oauth_finish(state, code, error, request.session.sid)
        # The state is spent and the tokens kept, whatever happens next.
        request.env.cr.commit()
        if problem:
            return request.render('email_crm_sync.oauth_answer', {
                'message': (mailbox or mailboxes)._oauth_problem_message(problem, params),
                'back_url': _form_url(mailbox) if mailbox else '/web#model=email.sync.mailbox&view_type=list',
            })
        # Its outcome (folders, or the reason) is shown on the mailbox form.
        try:
            mailbox.action_test_connection()
        except UserError as error:   # e.g. no IMAP server entered yet
            return request.render('email_crm_sync.oauth_answer', {
                'message': error.name, 'back_url': _form_url(mailbox)})
        return werkzeug.utils.redirect(_form_url(mailbox), 303)


def _form_url(mailbox):
    return '/web#id=%d&model=email.sync.mailbox&view_type=form' % mailbox.id
