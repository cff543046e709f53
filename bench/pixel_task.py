"""Odoo side of bench/pixel_rps.py: the ``pixel-setup`` task of
bench/odoo_tasks.py.

    python bench/odoo_tasks.py --config C --db D pixel-setup [--emails 20000] [--image-size 16]

In one transaction:
1. a salesperson with a mailbox, its INBOX and Sent folders (no IMAP server:
   the folders are merged from a listing, as bench/conversation_task.py does);
2. ``--emails`` sent emails stored through the addon's own
   ``_create_many_from_parsed`` (what the composer's ``_store_sent`` and the
   sync use), dated a day ago, then marked as the composer's
   ``_tracked_html`` marks a sent email with open tracking: ``track_opens``
   on, clicks off, a fresh ``tracking_token.new_nonce()`` each;
3. a small PNG (``--image-size`` pixels square) as a public ``ir.attachment``
   (``public=True``: ``/web/image/<id>`` serves it to anyone, no login).

Prints one JSON line: the user, mailbox and attachment ids, the PNG's size
and SHA-1, and [email id, nonce] for every email. The tokens are made by
the benchmark process (``tracking_token.make_token`` with
``database.secret``), not here.
"""
import base64
import datetime
import email.message
import email.utils
import hashlib
import json
import struct
import time
import zlib

import odoo
from odoo.api import Environment

from bench_mailbox import salesperson_with_mailbox

OWNER_NAME, OWNER_ADDR = 'Pia Pixel', 'pia.pixel@bench-corp.example'
BATCH = 1000


def emit(**values):
    print(json.dumps(values, default=str), flush=True)


def png(size):
    """A ``size`` x ``size`` RGB PNG (a small gradient), without any imaging library."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    rows = b''.join(b'\x00' + bytes(v for x in range(size) for v in (x * 255 // max(size - 1, 1),
                                                                       y * 255 // max(size - 1, 1), 128))
                    for y in range(size))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', size, size, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(rows, 9)) + chunk(b'IEND', b''))


def setup(env):
    user, mailbox, folders = salesperson_with_mailbox(env, OWNER_NAME, 'pia.pixel', OWNER_ADDR,
                                                      'Bench pixel')
    return user, mailbox, folders['Sent']


def raw_sent_email(index, when):
    msg = email.message.EmailMessage()
    msg['From'] = '%s <%s>' % (OWNER_NAME, OWNER_ADDR)
    msg['To'] = 'Customer %d <customer%d@client%d.example>' % (index, index, index % 97)
    msg['Subject'] = 'Offer %d for your team' % index
    msg['Date'] = email.utils.format_datetime(when)
    msg['Message-ID'] = '<pixel-bench-%d@bench-corp.example>' % index
    msg.set_content('Hello,\n\nplease find our offer number %d below.\n\nBest regards,\nPia\n' % index)
    return msg.as_bytes()


def task_pixel_setup(args, registry):
    from psycopg2.extras import execute_values
    from odoo.addons.email_crm_sync.lib import mime_parser, tracking_token
    started = time.monotonic()
    with Environment.manage(), registry.cursor() as cr:
        env = Environment(cr, odoo.SUPERUSER_ID, {})
        user, mailbox, sent = setup(env)
        Message = env['email.sync.message'].sudo()
        limit = mailbox._max_attachment_bytes()
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
        ids = []
        for first in range(0, args.emails, BATCH):
            items = [(mime_parser.parse_message(raw_sent_email(i, when), limit), when.replace(tzinfo=None))
                     for i in range(first, min(first + BATCH, args.emails))]
            stored = Message._create_many_from_parsed(mailbox, sent, items)
            ids.extend(stored[parsed.message_id].id for parsed, _when in items)
            env.cache.invalidate()
        # What _tracked_html writes on a sent email with open tracking on.
        pairs = [(email_id, tracking_token.new_nonce()) for email_id in ids]
        execute_values(cr._obj, """
            UPDATE email_sync_message m SET track_opens = true, track_clicks = false, tracking_nonce = v.nonce
              FROM (VALUES %s) AS v(id, nonce) WHERE m.id = v.id""", pairs, page_size=1000)
        image = png(args.image_size)
        attachment = env['ir.attachment'].create({
            'name': 'bench-pixel.png', 'datas_fname': 'bench-pixel.png', 'datas': base64.b64encode(image),
            'mimetype': 'image/png', 'public': True})
        cr.commit()
        cr.execute("""SELECT count(*) FROM email_sync_message
                       WHERE user_id = %s AND track_opens AND tracking_nonce IS NOT NULL
                         AND active AND NOT deleted_by_user""", (user.id,))
        tracked = cr.fetchone()[0]
        emit(user_id=user.id, mailbox_id=mailbox.id, attachment_id=attachment.id,
             image_bytes=len(image), image_sha1=hashlib.sha1(image).hexdigest(),
             tracked_emails=tracked, seconds=round(time.monotonic() - started, 1), emails=pairs)
    return 0


def add_arguments(parser):
    parser.add_argument('--emails', type=int, default=20000)
    parser.add_argument('--image-size', type=int, default=16)
