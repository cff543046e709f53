from odoo import models
from odoo.http import request

from .ir_attachment import MAIL_MODELS

# What a browser shows without running anything: served inline. Every other
# type of a received file (HTML, SVG, XHTML, XML, scripts...) is a download.
PASSIVE_TYPES = ('image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp',
                 'text/plain', 'application/pdf')


class IrHttp(models.AbstractModel):
    """Received attachments are never active content in the CRM's origin:
    /web/content and /web/image serve files of mail as downloads unless their
    type runs nothing, always with a sandboxing Content-Security-Policy, for
    the owner as for anyone."""
    _inherit = 'ir.http'

    @classmethod
    def _serve_fallback(cls, exception):
        # Odoo looks a missing page up as an attachment URL; PostgreSQL refuses
        # a NUL byte in it, which turned a 404 into a server error.
        if '\x00' in (request.httprequest.path or ''):
            return False
        return super(IrHttp, cls)._serve_fallback(exception)

    @classmethod
    def binary_content(cls, xmlid=None, model='ir.attachment', id=None, field='datas',
                       unique=False, filename=None, filename_field='datas_fname', download=False,
                       mimetype=None, default_mimetype='application/octet-stream',
                       access_token=None, env=None):
        status, headers, content = super(IrHttp, cls).binary_content(
            xmlid=xmlid, model=model, id=id, field=field, unique=unique, filename=filename,
            filename_field=filename_field, download=download, mimetype=mimetype,
            default_mimetype=default_mimetype, access_token=access_token, env=env)
        if not id or status not in (200, 304):
            return status, headers, content
        if model in MAIL_MODELS:
            # A field of an email or conversation (its HTML body, say): never inline.
            served_type, name = None, filename
        elif model == 'ir.attachment':
            env = env or request.env
            env.cr.execute('SELECT res_model, datas_fname, name FROM ir_attachment WHERE id = %s',
                           (int(id),))
            row = env.cr.fetchone()
            if not row or row[0] not in MAIL_MODELS:
                return status, headers, content
            served_type = dict(headers).get('Content-Type', '').split(';')[0].strip().lower()
            name = filename or row[1] or row[2]
        else:
            return status, headers, content
        return status, cls._email_sync_safe_headers(headers, served_type, name, download), content

    @classmethod
    def _email_sync_safe_headers(cls, headers, served_type, name, download):
        """Inline only for types that run nothing; a download otherwise; and
        a sandbox whatever the browser makes of it."""
        headers = [(key, value) for key, value in headers if key not in (
            'Content-Type', 'Content-Disposition', 'X-Content-Type-Options',
            'Content-Security-Policy')]
        disposition = ('Content-Disposition', cls.content_disposition(name or 'attachment'))
        if served_type in PASSIVE_TYPES:
            headers.append(('Content-Type', served_type))
            if download:
                headers.append(disposition)
        else:
            headers += [('Content-Type', 'application/octet-stream'), disposition]
        return headers + [('X-Content-Type-Options', 'nosniff'),
                          ('Content-Security-Policy', "default-src 'none'; sandbox")]
