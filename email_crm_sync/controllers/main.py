"""The public tracking routes: the open pixel and the click redirect.

Built to answer fast and to tell nothing: plain SQL instead of the ORM, at
most one row written per request, the same 1x1 image for a good, forged or
unknown token, a plain 404 for a bad click token, and a redirect only to
the URL recorded when the email was sent (never one from the request). No
IP address is stored.
"""
import base64
import datetime
import json
import logging

import psycopg2.errors
import werkzeug.utils

from odoo import fields, http
from odoo.http import request

from ..lib import open_classifier, tracking_token

_logger = logging.getLogger(__name__)

EPOCH = datetime.datetime(1970, 1, 1)
PIXEL = base64.b64decode('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7')
PIXEL_HEADERS = [
    ('Content-Type', 'image/gif'),
    ('Content-Length', str(len(PIXEL))),
    ('Cache-Control', 'no-store, no-cache, must-revalidate, max-age=0'),
    ('Pragma', 'no-cache'),
]


class TrackingController(http.Controller):

    @http.route('/ecs/t/o/<string:token>.gif', type='http', auth='public', csrf=False,
                methods=['GET', 'HEAD'])
    def tracking_open(self, token, **_kwargs):
        try:
            _record(token, 'o')
        except Exception:  # an open must never break the image
            _logger.exception('Recording an email open failed')
        return request.make_response(PIXEL, headers=PIXEL_HEADERS)

    @http.route('/ecs/t/c/<string:token>', type='http', auth='public', csrf=False,
                methods=['GET', 'HEAD'])
    def tracking_click(self, token, **_kwargs):
        url = _record(token, 'c')
        if not url:
            # A plain 404 answered here, not raised: Odoo's fallback for raised
            # ones looks the path up as an attachment URL.
            return request.not_found()
        return werkzeug.utils.redirect(url, code=302)


def _record(token, kind):
    """Check the token and store the event; returns the click's URL (or True for
    an open) when the token is good, None otherwise."""
    parsed = tracking_token.parse_token(token)
    if not parsed:
        return None
    email_id, index, _sig = parsed
    cr = request.env.cr
    cr.execute("""
        SELECT m.tracking_nonce, m.track_opens, m.track_clicks, m.tracked_urls, m.date, m.user_id,
               c.email_sync_tracking_disabled
          FROM email_sync_message m
          JOIN res_users u ON u.id = m.user_id
          JOIN res_company c ON c.id = u.company_id
         WHERE m.id = %s AND m.active AND NOT m.deleted_by_user
    """, (email_id,))
    row = cr.fetchone()
    if not row:
        return None  # unknown or deleted email: no event
    nonce, track_opens, track_clicks, urls, sent, user_id, disabled = row
    secret = request.env['ir.config_parameter'].sudo().get_param('database.secret')
    if not tracking_token.verify(secret, token, nonce, kind):
        return None
    url = True
    if kind == 'c':
        urls = json.loads(urls or '[]')
        if index >= len(urls):
            return None
        url = urls[index]
    now = datetime.datetime.utcnow()
    # Odoo's cursor returns timestamps as text.
    seconds = (now - fields.Datetime.from_string(sent)).total_seconds() if sent else None
    if disabled or (kind == 'o' and not track_opens) or (kind == 'c' and not track_clicks):
        return url  # the link still works; nothing is recorded
    if kind == 'o':
        # Seconds since the last open, computed by PostgreSQL to the microsecond.
        cr.execute("SELECT extract(epoch FROM %s - max(event_date)) FROM email_sync_tracking_event "
                   "WHERE message_id = %s AND kind = 'open'", (now, email_id))
        since_last = cr.fetchone()[0]
        if open_classifier.is_repeat(float(since_last) if since_last is not None else None):
            return url
    user_agent = request.httprequest.headers.get('User-Agent', '')
    # Two workers answering the same open at once: the unique (email, slot) index keeps
    # one; the other gets a serialization failure (REPEATABLE READ), which is no error
    # here, hence the savepoint and the raw cursor (Odoo's would log it as a bad query).
    elapsed = (now - EPOCH).total_seconds()
    slot = int(elapsed // (open_classifier.REPEAT_SECONDS if kind == 'o'
                           else open_classifier.CLICK_REPEAT_SECONDS))
    try:
        with cr.savepoint():
            _insert_event(cr, email_id, user_id, kind, now, url, user_agent, seconds, slot)
    except psycopg2.errors.SerializationFailure:
        pass  # the same event, stored by the other worker
    return url


def _insert_event(cr, email_id, user_id, kind, now, url, user_agent, seconds, slot):
    """One row, unless the email's open of that ten-second slot, or the click of
    that link in that hour (by a machine, or by a person), is stored already."""
    machine = open_classifier.is_machine(user_agent, seconds)
    if kind == 'o':
        cr._obj.execute("""
            INSERT INTO email_sync_tracking_event (message_id, user_id, kind, event_date, machine,
                                                   processed, open_slot, create_date, write_date)
            VALUES (%s, %s, 'open', %s, %s, false, %s, %s, %s)
            ON CONFLICT (message_id, open_slot) WHERE kind = 'open' DO NOTHING
        """, (email_id, user_id, now, machine, slot, now, now))
    else:
        cr._obj.execute("""
            INSERT INTO email_sync_tracking_event (message_id, user_id, kind, event_date, url, machine,
                                                   processed, click_slot, create_date, write_date)
            VALUES (%s, %s, 'click', %s, %s, %s, false, %s, %s, %s)
            ON CONFLICT (message_id, md5(url), click_slot, machine)
                WHERE kind = 'click' AND click_slot IS NOT NULL DO NOTHING
        """, (email_id, user_id, now, url, machine, slot, now, now))
