"""Realistic demo mail for a personal mailbox, and seeding it over IMAP.

generate_messages() streams DemoMessage items (folder, raw bytes, flags,
date): business reply chains in seven languages (proper Message-ID,
In-Reply-To, References), owner's replies for the Sent folder, newsletters
from noreply@ addresses, multipart/alternative text+HTML, small PDF/PNG/CSV
attachments, and headers in the encodings real mailers use. The same seed
and `now` always give the same bytes; nothing is held in memory beyond one
thread, so benchmarks can stream tens of thousands of messages.
"""
import collections
import datetime
import email.utils
import html
import random
import textwrap

from . import mime_bits as mb
from .demo_mail_text import LANGUAGES, CJK, MONTHS_EN, OWNER_TITLE, OWNER_COMPANY, MAILERS

DemoMessage = collections.namedtuple('DemoMessage', 'folder raw flags date message_id')

PERIOD_DAYS = 120
NEWSLETTER_SHARE = 0.12
THREAD_LENGTHS = ((1, 22), (2, 30), (3, 22), (4, 13), (5, 8), (6, 5))
ATTACHMENT_SHARE = 0.18
_LANG_CODES = tuple(LANGUAGES)
_LANG_WEIGHTS = tuple(LANGUAGES[c]['weight'] for c in _LANG_CODES)
_MEAN_THREAD = sum(n * w for n, w in THREAD_LENGTHS) / sum(w for _, w in THREAD_LENGTHS)


def _pick(rng, weighted):
    items, weights = zip(*weighted)
    return rng.choices(items, weights)[0]


def _default_now():
    # Midnight UTC today: the same seed gives the same mail all day long.
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return datetime.datetime(today.year, today.month, today.day, tzinfo=datetime.timezone.utc)


class _Person:
    __slots__ = ('name', 'first', 'address', 'company', 'tz', 'lang', 'title')

    def __init__(self, name, first, address, company, tz, lang, title=''):
        self.name, self.first, self.address = name, first, address
        self.company, self.tz, self.lang, self.title = company, tz, lang, title

    @property
    def domain(self):
        return self.address.rpartition('@')[2]


# -- text ---------------------------------------------------------------------

def _wrap(text, lang):
    """Lines of at most ~72 columns; CJK text has no spaces, so cut by count."""
    lines = []
    for paragraph_line in text.split('\n'):
        if lang in CJK:
            step = 36
            chunks = [paragraph_line[i:i + step] for i in range(0, len(paragraph_line), step)]
            lines.extend(chunks or [''])
        else:
            lines.extend(textwrap.wrap(paragraph_line, 72, break_on_hyphens=False) or [''])
    return '\n'.join(lines)


def _format_date(dt, lang):
    return LANGUAGES[lang]['date_format'].format(
        d=dt.day, m=dt.month, y=dt.year, mon_en=MONTHS_EN[dt.month - 1])


def _thread_facts(rng, lang, start):
    L = LANGUAGES[lang]
    due = start + datetime.timedelta(days=rng.randint(5, 30))
    return dict(
        n=rng.choice((12, 25, 40, 50, 100, 150, 250, 500, 1200)),
        product=rng.choice(L['products']),
        order='SO-%d%04d' % (start.year % 100, rng.randint(1, 9999)),
        inv='%d-%04d' % (start.year, rng.randint(1, 9999)),
        date=_format_date(due, lang),
        amount=L['amount'](rng.randrange(2000, 90000, 500)),
        year=start.year + (1 if start.month > 9 else 0),
        pct=rng.choice((10, 15, 20, 25, 30, 40, 50)),
    )


def _body_paragraphs(rng, lang, sender, recipient, first_message, facts, attached):
    L = LANGUAGES[lang]
    greeting = rng.choice(L['greetings']).format(first=recipient.first, name=recipient.name,
                                                 company=recipient.company)
    pool = L['openers'] if first_message else L['replies']
    paragraphs = [p.format(**facts) for p in rng.sample(pool, rng.choice((1, 2, 2, 3)))]
    if attached:
        paragraphs.append(L['attached'].format(**facts))
    if L['intros']:
        paragraphs.insert(0, rng.choice(L['intros']))
    if L['lowercase_after_greeting'] and greeting.endswith(','):
        paragraphs[0] = paragraphs[0][0].lower() + paragraphs[0][1:]
    closing = rng.choice(L['closings'])
    signature = '\n'.join(line for line in (sender.name, sender.title, sender.company) if line)
    return greeting, paragraphs, closing, signature


def _plain_text(lang, greeting, paragraphs, closing, signature, quote):
    parts = [greeting, ''] + [p + '\n' for p in paragraphs] + [closing, signature]
    text = _wrap('\n'.join(parts), lang)
    if quote:
        intro, quoted = quote
        quoted = '\n'.join(('> ' + line) if line else '>' for line in quoted.split('\n'))
        text += '\n\n' + intro + '\n' + quoted
    return text + '\n'


def _html_text(lang, greeting, paragraphs, closing, signature, quote):
    direction = ' dir="rtl"' if lang == 'ar' else ''
    esc = html.escape
    body = ['<p>%s</p>' % esc(greeting).replace('\n', '<br>')]
    body += ['<p>%s</p>' % esc(p) for p in paragraphs]
    body.append('<p>%s<br>\n<span style="color:#555">%s</span></p>'
                % (esc(closing).replace('\n', '<br>'), esc(signature).replace('\n', '<br>')))
    if quote:
        intro, quoted = quote
        body.append('<div>%s</div>\n<blockquote type="cite" style="margin:0 0 0 .8ex;'
                    'border-left:1px solid #ccc;padding-left:1ex">%s</blockquote>'
                    % (esc(intro), esc(quoted).replace('\n', '<br>\n')))
    return ('<!DOCTYPE html>\n<html lang="%s"%s><head><meta charset="utf-8"></head>\n'
            '<body style="font-family:Arial,sans-serif;font-size:14px">\n%s\n</body></html>\n'
            % (lang, direction, '\n'.join(body)))


# -- MIME assembly --------------------------------------------------------------

def _boundary(rng):
    style = rng.randrange(3)
    token = '%032x' % rng.getrandbits(128)
    if style == 0:
        return '----=_Part_%d_%s' % (rng.randrange(10 ** 6), token[:10])
    if style == 1:
        return '=_%s' % token
    return 'Apple-Mail=_%s-%s-%s' % (token[:8].upper(), token[8:12].upper(), token[12:24].upper())


def _text_part(text, subtype, charset, cte):
    charset, cte, encoded = mb.encode_body(text, charset, cte)
    return ('Content-Type: text/%s; charset="%s"\nContent-Transfer-Encoding: %s\n\n%s'
            % (subtype, charset, cte, encoded))


def _multipart(rng, subtype, parts):
    boundary = _boundary(rng)
    out = ['Content-Type: multipart/%s;\n boundary="%s"\n' % (subtype, boundary)]
    for part in parts:
        out.append('--%s\n%s' % (boundary, part))
    out.append('--%s--' % boundary)
    return '\n'.join(out)


def _attachment_part(filename, content_type, data, inline_cid=None):
    name = mb.rfc2231_param('name', filename)
    if inline_cid:
        disposition = 'inline; %s\nContent-ID: <%s>' % (mb.rfc2231_param('filename', filename),
                                                         inline_cid)
    else:
        disposition = 'attachment;\n %s' % mb.rfc2231_param('filename', filename)
    return ('Content-Type: %s;\n %s\nContent-Disposition: %s\n'
            'Content-Transfer-Encoding: base64\n\n%s'
            % (content_type, name, disposition, mb.base64_lines(data)))


_DOC_NAMES = {
    'en': ('Quote_{order}', 'Invoice_{inv}', 'Order_{order}'),
    'de': ('Angebot_{order}', 'Rechnung_{inv}', 'Auftragsbestätigung_{order}'),
    'fr': ('Devis_{order}', 'Facture_{inv}', 'Bon_de_commande_{order}'),
    'es': ('Presupuesto_{order}', 'Factura_{inv}', 'Pedido_{order}'),
    'ja': ('御見積書_{order}', '請求書_{inv}', '注文書_{order}'),
    'zh': ('报价单_{order}', '发票_{inv}', '订单_{order}'),
    'ar': ('عرض_سعر_{order}', 'فاتورة_{inv}', 'طلب_{order}'),
}


def _attachments(rng, lang, facts, sender):
    """One to three small, valid files fitting the thread."""
    files = []
    kinds = rng.sample(('pdf', 'png', 'csv'), rng.choice((1, 1, 1, 2, 3)))
    for kind in kinds:
        if kind == 'pdf':
            stem = rng.choice(_DOC_NAMES[lang]).format(**facts)
            lines = ['Document: %s' % (facts['order'] if 'order' in stem.lower() else facts['inv']),
                     'From: %s' % sender.domain, 'Quantity: %s' % facts['n'],
                     'Unit price: %d.%02d' % (rng.randint(5, 900), rng.randint(0, 99)),
                     'Payment terms: 30 days net']
            title = stem.encode('ascii', 'replace').decode()  # the PDF's base font is Latin
            files.append((stem + '.pdf', 'application/pdf', mb.tiny_pdf(title, lines)))
        elif kind == 'png':
            bars = [rng.random() for _ in range(rng.randint(3, 8))]
            size = rng.choice((24, 32, 48, 64))
            color = (rng.randint(0, 200), rng.randint(60, 200), rng.randint(120, 255))
            files.append(('chart-%s.png' % facts['order'].lower(), 'image/png',
                          mb.tiny_png(size, size * 3 // 4, (255, 255, 255), color, bars)))
        else:
            rows = ['item;quantity;unit_price']
            for i in range(rng.randint(2, 8)):
                rows.append('%s-%03d;%d;%d.%02d' % (facts['order'], i + 1, rng.randint(1, 200),
                                                    rng.randint(1, 500), rng.randint(0, 99)))
            files.append(('%s.csv' % facts['order'], 'text/csv',
                          ('\r\n'.join(rows) + '\r\n').encode('utf-8')))
    return files


def _headers(pairs):
    return '\n'.join(mb.header(name, value) for name, value in pairs if value is not None)


def _message_id(rng, domain, when):
    style = rng.randrange(3)
    if style == 0:
        return '<%s.%d@%s>' % ('%016x' % rng.getrandbits(64), int(when.timestamp()), domain)
    if style == 1:
        u = '%032x' % rng.getrandbits(128)
        return '<%s-%s-%s-%s-%s@%s>' % (u[:8], u[8:12], u[12:16], u[16:20], u[20:], domain)
    return '<%s@mail.%s>' % ('%024X' % rng.getrandbits(96), domain)


def _date_header(when, person):
    # In the sender's own time zone, as their mailer would write it.
    tz = datetime.timezone(datetime.timedelta(hours=person.tz))
    return email.utils.format_datetime(when.astimezone(tz))


def _received(rng, sender, owner, when):
    ip = '198.51.100.%d' % rng.randint(2, 250)
    return ('from mail.%s (mail.%s [%s])\n\tby mx.%s (Postfix) with ESMTPS id %s\n\tfor <%s>; %s'
            % (sender.domain, sender.domain, ip, owner.domain, '%010X' % rng.getrandbits(40),
               owner.address, _date_header(when, owner)))


def _assemble(header_pairs, body):
    text = _headers(header_pairs) + '\nMIME-Version: 1.0\n' + body
    return text.replace('\n', '\r\n').encode('utf-8')


def _business_message(rng, lang, sender, recipient, cc, subject, when, msg_id, parents, facts,
                      first_message, quote, owner):
    L = LANGUAGES[lang]
    # Decided first, so that only mail with attachments says so.
    files = _attachments(rng, lang, facts, sender) if rng.random() < ATTACHMENT_SHARE else []
    greeting, paragraphs, closing, signature = _body_paragraphs(
        rng, lang, sender, recipient, first_message, facts, bool(files))
    plain = _plain_text(lang, greeting, paragraphs, closing, signature, quote)
    # What the next message in the chain quotes: this one without its quote.
    own_text = _plain_text(lang, greeting, paragraphs, closing, signature, None).rstrip('\n')
    charset, cte = _pick(rng, L['body_modes'])
    structure = rng.random()
    if structure < 0.25:
        body = _text_part(plain, 'plain', charset, cte)
    else:
        html_text = _html_text(lang, greeting, paragraphs, closing, signature, quote)
        html_cte = 'base64' if lang in CJK or lang == 'ar' else 'quoted-printable'
        body = _multipart(rng, 'alternative', [
            _text_part(plain, 'plain', charset, cte),
            _text_part(html_text, 'html', 'utf-8', html_cte)])
    if files:
        body = _multipart(rng, 'mixed', [body] + [_attachment_part(*f) for f in files])

    mode = _pick(rng, L['header_modes'])
    mailer_header, mailer = rng.choice(MAILERS)
    pairs = []
    if sender is not owner:
        pairs.append(('Received', _received(rng, sender, owner, when)))
    pairs += [
        ('Date', _date_header(when, sender)),
        ('From', mb.address(sender.name, sender.address, mode)),
        ('To', mb.address(recipient.name, recipient.address, mode)),
        ('Cc', mb.address_list([mb.address(p.name, p.address, mode) for p in cc]) if cc else None),
        ('Subject', mb.header_text(subject, mode)),
        ('Message-ID', msg_id),
        ('In-Reply-To', parents[-1] if parents else None),
        ('References', '\n '.join(parents[-10:]) if parents else None),
        ('Content-Language', {'en': 'en-US', 'de': 'de-DE', 'fr': 'fr-FR', 'es': 'es-ES',
                              'ja': 'ja-JP', 'zh': 'zh-CN', 'ar': 'ar-AE'}[lang]),
    ]
    if mailer_header:
        pairs.append((mailer_header, mailer))
    return _assemble(pairs, body), own_text


def _newsletter(rng, owner, when):
    lang = rng.choices(_LANG_CODES, _LANG_WEIGHTS)[0]
    L = LANGUAGES[lang]
    name, addr, list_id, subjects = rng.choice(L['newsletters'])
    facts = _thread_facts(rng, lang, when)
    sender = _Person(name, name, addr, name, rng.choice(L['tz_hours']), lang)
    subject = rng.choice(subjects).format(**facts)
    token = '%020x' % rng.getrandbits(80)
    domain = sender.domain
    url = 'https://%s/unsubscribe?u=%s' % (domain, token)
    articles = [(t.format(**facts), s.format(**facts)) for t, s in rng.sample(L['articles'], 3)]

    plain = _wrap('\n\n'.join([subject] + ['%s\n%s' % a for a in articles]
                              + [L['unsubscribe'].format(url=url)]), lang) + '\n'
    direction = ' dir="rtl"' if lang == 'ar' else ''
    with_logo = rng.random() < 0.5
    logo = ('<img src="cid:logo@%s" width="48" height="36" alt="">' % domain) if with_logo else ''
    rows = ''.join('<tr><td style="padding:12px 0;border-bottom:1px solid #eee">'
                   '<h2 style="margin:0;font-size:18px;color:#1a4d8f">%s</h2>'
                   '<p style="margin:6px 0 0">%s</p></td></tr>\n'
                   % (html.escape(t), html.escape(s)) for t, s in articles)
    html_text = ('<!DOCTYPE html>\n<html lang="%s"%s><head><meta charset="utf-8">'
                 '<title>%s</title></head>\n'
                 '<body style="margin:0;background:#f4f4f4"><table role="presentation" width="600" '
                 'align="center" style="background:#fff;font-family:Arial,sans-serif">\n'
                 '<tr><td style="padding:16px">%s <strong>%s</strong></td></tr>\n%s'
                 '<tr><td style="font-size:11px;color:#888;padding:16px">%s</td></tr>\n'
                 '</table></body></html>\n'
                 % (lang, direction, html.escape(subject), logo, html.escape(name), rows,
                    html.escape(L['unsubscribe']).format(url='<a href="%s">%s</a>' % (url, url))))
    charset, cte = _pick(rng, L['body_modes'])
    html_part = _text_part(html_text, 'html', 'utf-8', 'quoted-printable')
    if with_logo:
        png = mb.tiny_png(48, 36, (26, 77, 143), (255, 200, 0), [0.4, 0.7, 1.0])
        html_part = _multipart(rng, 'related', [
            html_part,
            _attachment_part('logo.png', 'image/png', png, inline_cid='logo@%s' % domain)])
    body = _multipart(rng, 'alternative', [_text_part(plain, 'plain', charset, cte), html_part])

    mode = _pick(rng, L['header_modes'])
    msg_id = _message_id(rng, domain, when)
    pairs = [
        ('Received', _received(rng, sender, owner, when)),
        ('Date', _date_header(when, sender)),
        ('From', mb.address(name, addr, mode)),
        ('To', owner.address),
        ('Subject', mb.header_text(subject, mode)),
        ('Message-ID', msg_id),
        ('List-Id', '%s <%s>' % (mb.header_text(name, mode), list_id)),
        ('List-Unsubscribe', '<%s>,\n <mailto:unsubscribe@%s?subject=%s>' % (url, domain, token)),
        ('List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'),
        ('Precedence', 'bulk'),
        ('X-Campaign-ID', '%08x' % rng.getrandbits(32)),
    ]
    flags = ('\\Seen',) if rng.random() < 0.4 else ()
    return DemoMessage('INBOX', _assemble(pairs, body), flags, when, msg_id)


def _thread(rng, owner, start, now):
    lang = rng.choices(_LANG_CODES, _LANG_WEIGHTS)[0]
    L = LANGUAGES[lang]
    name, first, local, domain, company = rng.choice(L['contacts'])
    contact = _Person(name, first, '%s@%s' % (local, domain), company,
                      rng.choice(L['tz_hours']), lang)
    colleagues = [c for c in L['contacts'] if c[3] == domain and c[0] != name]
    cc = []
    if colleagues and rng.random() < 0.35:
        c = rng.choice(colleagues)
        cc = [_Person(c[0], c[1], '%s@%s' % (c[2], c[3]), c[4], contact.tz, lang)]
    facts = _thread_facts(rng, lang, start)
    subject = rng.choice(L['subjects']).format(**facts)
    length = _pick(rng, THREAD_LENGTHS)
    owner_first = rng.random() < 0.3

    # Plan the dates first: \Answered depends on whether a reply follows.
    dates, when = [], start
    for _ in range(length):
        if when > now:
            break
        dates.append(when)
        when = when + datetime.timedelta(minutes=rng.randint(12, 60 * 40))

    parents, previous = [], None
    for k, when in enumerate(dates):
        from_owner = (k % 2 == 0) == owner_first
        sender, recipient = (owner, contact) if from_owner else (contact, owner)
        msg_id = _message_id(rng, sender.domain, when)
        quote = None
        if previous and rng.random() < 0.7:
            prev_sender, prev_when, prev_text = previous
            intro = L['quote_intro'].format(date=prev_when.strftime('%Y-%m-%d %H:%M'),
                                            name=prev_sender.name)
            quote = (intro, prev_text)
        msg_subject = subject if k == 0 else L['reply_prefix'] + subject
        raw, own_text = _business_message(rng, lang, sender, recipient, cc, msg_subject, when,
                                          msg_id, parents, facts, k == 0, quote, owner)
        if from_owner:
            folder, flags = 'Sent', ['\\Seen']
        else:
            folder, flags = 'INBOX', []
            age_days = (now - when).total_seconds() / 86400
            if rng.random() < (0.95 if age_days > 3 else 0.4):
                flags.append('\\Seen')
            if k + 1 < len(dates):
                flags.append('\\Answered')
            if rng.random() < 0.06:
                flags.append('\\Flagged')
        yield DemoMessage(folder, raw, tuple(flags), when, msg_id)
        parents.append(msg_id)
        previous = (sender, when, own_text)


def generate_messages(count=300, seed=1, owner_name='Alice Martin', owner_address='alice@localhost',
                      now=None):
    """Yield `count` DemoMessage items, oldest threads first.

    Dates spread over the PERIOD_DAYS before `now` (default: today 00:00
    UTC). Folders are 'INBOX' and 'Sent'.
    """
    rng = random.Random(seed)
    now = now or _default_now()
    owner = _Person(owner_name, owner_name.split()[0], owner_address, OWNER_COMPANY, 1, 'en',
                    OWNER_TITLE)
    period = datetime.timedelta(days=PERIOD_DAYS)
    expected_threads = max(1.0, count / (_MEAN_THREAD * (1 - NEWSLETTER_SHARE) + NEWSLETTER_SHARE))
    produced, index = 0, 0
    while produced < count:
        # Thread starts walk through the period; when threads come out
        # shorter than average, more are needed and the starts wrap around.
        position = ((index + rng.random()) / expected_threads) % 1.0
        start = now - period + period * position * 0.995
        start = start.replace(microsecond=0)
        if rng.random() < NEWSLETTER_SHARE:
            messages = [_newsletter(rng, owner, start)]
        else:
            messages = _thread(rng, owner, start, now - datetime.timedelta(minutes=10))
        for message in messages:
            yield message
            produced += 1
            if produced >= count:
                return
        index += 1


def generate_raw_messages(count=300, seed=1, **kwargs):
    """Just the message bytes, for benchmarks that fill big mailboxes."""
    for message in generate_messages(count, seed, **kwargs):
        yield message.raw


def seed_mailbox(dovecot, login, password, count=300, seed=1, owner_name=None,
                 owner_address=None, now=None, batch=100):
    """Fill INBOX and Sent of login's mailbox with `count` demo messages.

    Does nothing when INBOX or Sent already holds mail (so `dev` scripts can
    call it on every start). Returns the number of messages appended.
    Appends in MULTIAPPEND batches: one round trip per `batch` messages.
    """
    owner_address = owner_address or (login if '@' in login else login + '@localhost')
    owner_name = owner_name or owner_address.split('@')[0].replace('.', ' ').title()
    with dovecot.imap_client(login, password) as client:
        for folder in ('INBOX', 'Sent'):
            if client.folder_status(folder, [b'MESSAGES'])[b'MESSAGES']:
                return 0
        pending = {'INBOX': [], 'Sent': []}
        appended = 0

        def flush(folder):
            nonlocal appended
            if pending[folder]:
                client.multiappend(folder, pending[folder])
                appended += len(pending[folder])
                pending[folder] = []

        for message in generate_messages(count, seed, owner_name=owner_name,
                                         owner_address=owner_address, now=now):
            pending[message.folder].append(
                {'msg': message.raw, 'flags': message.flags, 'date': message.date})
            if len(pending[message.folder]) >= batch:
                flush(message.folder)
        for folder in pending:
            flush(folder)
    return appended
