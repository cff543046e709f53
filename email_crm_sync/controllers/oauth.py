"""The end of "Sign in with ...": the provider sends the user back here.

The steps are committed one by one, because Odoo runs a request again from
the start after a database conflict, and a provider's code may be spent only
once: the state is claimed and committed first; the code is exchanged (no
database write); the tokens are stored in a transaction of their own, tried
again on a conflict; then the connection is tested. The user lands back on
the mailbox form, or on a page that says what went wrong.

The query string of this route carries a one-time authorization code: it is
cut from Odoo's request log, including where the route is named URL-encoded
(the login page's ``redirect=`` when the session has expired).
"""
import logging
import re

import psycopg2.extensions
import werkzeug.utils

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from ..models.email_sync_oauth_app import CALLBACK_PATH

_logger = logging.getLogger(__name__)
_STORE_ATTEMPTS = 3
# A URL naming the callback, plain or URL-encoded, up to the end of the URL.
_CALLBACK_URL = re.compile(r'(\S*?%s)\S*' % re.escape(CALLBACK_PATH).replace('/', '(?:/|%2[fF])'))


def _cut(text):
    return _CALLBACK_URL.sub(lambda match: match.group(1) + '?...', text)


class CallbackQueryFilter(logging.Filter):
    """Drops the query string of every URL naming the callback from log lines."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = _cut(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_cut(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def _install_log_filter():
    werkzeug_logger = logging.getLogger('werkzeug')
    if not any(isinstance(f, CallbackQueryFilter) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(CallbackQueryFilter())


_install_log_filter()


class OAuthCallbackController(http.Controller):

    @http.route(CALLBACK_PATH, type='http', auth='user', methods=['GET'], csrf=False)
    def oauth_callback(self, state=None, code=None, error=None, **_kwargs):
        cr = request.env.cr
        mailboxes = request.env['email.sync.mailbox']
        claim = mailboxes._oauth_claim(state, request.session.sid)
        cr.commit()   # the state is spent before anything else can happen
        mailbox, problem, params = claim['mailbox'], claim['problem'], claim['params']
        if not problem:
            tokens, problem, params = mailboxes._oauth_exchange(claim, code, error)
        if not problem:
            problem, params = _store(mailbox, tokens)
        if problem:
            return request.render('email_crm_sync.oauth_answer', {
                'message': (mailbox or mailboxes)._oauth_problem_message(problem, params),
                'back_url': _form_url(mailbox) if mailbox else '/web#model=email.sync.mailbox&view_type=list',
            })
        # Its outcome (folders, or the reason) is shown on the mailbox form.
        # Not run again after a conflict: the form's Test connection is there.
        try:
            mailbox.action_test_connection()
            cr.commit()
        except UserError as error:   # e.g. no IMAP server entered yet
            cr.rollback()
            return request.render('email_crm_sync.oauth_answer', {
                'message': error.name, 'back_url': _form_url(mailbox)})
        except psycopg2.extensions.TransactionRollbackError:
            cr.rollback()
        return werkzeug.utils.redirect(_form_url(mailbox), 303)


def _store(mailbox, tokens):
    """Store the granted sign-in, trying again on a conflict with a sync that
    wrote the mailbox meanwhile (the code is spent: only this step repeats)."""
    cr = request.env.cr
    for attempt in range(_STORE_ATTEMPTS):
        try:
            result = mailbox._oauth_accept(tokens)
            cr.commit()
            return result
        except psycopg2.extensions.TransactionRollbackError:
            cr.rollback()
            mailbox.invalidate_cache()
            if attempt == _STORE_ATTEMPTS - 1:
                raise


def _form_url(mailbox):
    return '/web#id=%d&model=email.sync.mailbox&view_type=form' % mailbox.id
