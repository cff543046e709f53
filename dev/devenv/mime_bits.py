"""Hand-made MIME pieces for the demo mail generator.

Written by hand rather than with email.generator because the demo mail must
show the encodings real mailers produce (ISO-2022-JP encoded words, GB2312
bodies, Q-encoded Latin-1 names, raw UTF-8 subjects) and because benchmarks
generate thousands of messages: string building is much faster.
Everything here uses '\\n' line ends; demo_mail turns them into CRLF once.
"""
import base64
import binascii
import struct
import zlib

# RFC 2047 5(3): characters allowed unencoded in a Q-encoded word in a phrase.
_Q_SAFE = frozenset(b'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/')
_Q_TABLE = {b: (chr(b) if b in _Q_SAFE else ('_' if b == 0x20 else '=%02X' % b))
            for b in range(256)}
# An address display name needs quotes if it holds any of RFC 5322's specials.
_SPECIALS = frozenset('()<>[]:;@\\,."')

MAX_WORD = 75  # RFC 2047: an encoded word is at most 75 characters


def charset_can_encode(text, charset):
    try:
        text.encode(charset)
        return True
    except UnicodeEncodeError:
        return False


def _encode_word(chunk, charset, encoding):
    data = chunk.encode(charset)
    if encoding == 'B':
        payload = base64.b64encode(data).decode('ascii')
    else:
        payload = ''.join(_Q_TABLE[b] for b in data)
    return '=?%s?%s?%s?=' % (charset, encoding, payload)


def encoded_words(text, charset, encoding='B'):
    """RFC 2047 encoded words for text, each within 75 characters.

    Words break between characters, never inside a multibyte sequence, and
    each word is encoded on its own so stateful charsets (ISO-2022-JP) end
    every word back in ASCII, as RFC 1468 requires.
    """
    words, start = [], 0
    while start < len(text):
        # Grow the chunk while its encoded form still fits.
        end = start + 1
        best = _encode_word(text[start:end], charset, encoding)
        while end < len(text):
            candidate = _encode_word(text[start:end + 1], charset, encoding)
            if len(candidate) > MAX_WORD:
                break
            best, end = candidate, end + 1
        words.append(best)
        start = end
    return words


def header_text(text, mode):
    """A header value for text written per mode: ('raw',) or (charset, 'B'|'Q').

    ASCII text is always written as is. A charset that cannot hold the text
    gives way to UTF-8, as a mailer would.
    """
    if text.isascii() or mode[0] == 'raw':
        return text
    charset, encoding = mode
    if not charset_can_encode(text, charset):
        charset = 'utf-8'
    return '\n '.join(encoded_words(text, charset, encoding))


def address(name, addr, mode):
    """'Name <addr>' with the name quoted or encoded as needed."""
    if not name:
        return addr
    if name.isascii():
        if any(c in _SPECIALS for c in name):
            name = '"%s"' % name.replace('\\', '\\\\').replace('"', '\\"')
        return '%s <%s>' % (name, addr)
    if mode[0] == 'raw':
        # Python's email package flags raw UTF-8 in address headers as a
        # defect (it reads them right though): keep raw UTF-8 to Subject.
        mode = ('utf-8', 'B')
    return '%s <%s>' % (header_text(name, mode), addr)


def fold(name, value, width=78):
    """'Name: value' folded at spaces so lines stay short (for plain text)."""
    line = name + ':'
    lines = []
    for word in value.split(' '):
        if len(line) + 1 + len(word) > width and line.strip() and line != name + ':':
            lines.append(line)
            line = ''
        line += ' ' + word
    lines.append(line)
    return '\n'.join(lines)


def header(name, value):
    """One header line; values with their own folds (encoded words, lists)
    are kept, plain text is folded at spaces."""
    if '\n' in value or value.startswith('=?'):
        return '%s: %s' % (name, value)
    return fold(name, value)


def address_list(items):
    return ',\n '.join(items)


def encode_body(text, charset, cte):
    """(charset, cte, encoded text) for a text part.

    Falls back to UTF-8 when the charset cannot hold the text, and from
    7bit to quoted-printable when the bytes are not ASCII.
    """
    if not charset_can_encode(text, charset):
        charset = 'utf-8'
        if cte == '7bit':
            cte = 'quoted-printable'
    if cte == '7bit':
        if charset == 'iso-2022-jp':
            # Encode line by line so every line ends back in ASCII.
            encoded = '\n'.join(line.encode(charset).decode('ascii') for line in text.split('\n'))
        elif text.isascii():
            encoded = text
        else:
            cte = 'quoted-printable'
    if cte == 'quoted-printable':
        encoded = binascii.b2a_qp(text.encode(charset)).decode('ascii')
    elif cte == 'base64':
        encoded = base64.encodebytes(text.encode(charset)).decode('ascii').rstrip('\n')
    elif cte == '8bit':
        if charset != 'utf-8':
            # The message is assembled as UTF-8 text: 8bit parts must be UTF-8.
            charset = 'utf-8'
        encoded = text
    return charset, cte, encoded


def base64_lines(data):
    return base64.encodebytes(data).decode('ascii').rstrip('\n')


def rfc2231_param(name, value):
    """A MIME parameter, RFC 2231 encoded when not ASCII (what Thunderbird
    and Apple Mail send for non-ASCII file names)."""
    if value.isascii():
        return '%s="%s"' % (name, value.replace('\\', '\\\\').replace('"', '\\"'))
    quoted = ''.join(chr(b) if (chr(b).isalnum() and b < 128) or chr(b) in '-._~' else '%%%02X' % b
                     for b in value.encode('utf-8'))
    return "%s*=utf-8''%s" % (name, quoted)


# -- tiny but valid attachments ---------------------------------------------

def _png_chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))


def tiny_png(width, height, background, bar_color, bars):
    """An RGB PNG showing a small bar chart (bars: heights from 0 to 1)."""
    bar_width = max(1, width // max(1, len(bars)))
    bg, fg = bytes(background), bytes(bar_color)
    rows = []
    for y in range(height):
        level = 1 - (y + 0.5) / height
        row = bytearray(b'\x00')  # filter type None
        for x in range(width):
            index = x // bar_width
            inside = index < len(bars) and bars[index] >= level and x % bar_width != bar_width - 1
            row += fg if inside else bg
        rows.append(bytes(row))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b'\x89PNG\r\n\x1a\n' + _png_chunk(b'IHDR', ihdr)
            + _png_chunk(b'IDAT', zlib.compress(b''.join(rows), 9)) + _png_chunk(b'IEND', b''))


def _pdf_string(text):
    text = text.encode('latin-1', 'replace').decode('latin-1')
    return '(' + text.replace('\\', '\\\\').replace('(', '\\(').replace(')', '\\)') + ')'


def tiny_pdf(title, lines):
    """A one-page PDF 1.4 with a title and text lines (Helvetica), with a
    correct cross-reference table so strict readers open it."""
    ops = ['BT', '/F1 18 Tf', '56 780 Td', _pdf_string(title) + ' Tj', '/F1 11 Tf']
    for line in lines:
        ops += ['0 -20 Td', _pdf_string(line) + ' Tj']
    ops.append('ET')
    content = '\n'.join(ops).encode('latin-1')
    objects = [
        b'<< /Type /Catalog /Pages 2 0 R >>',
        b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
        b'/Resources << /Font << /F1 5 0 R >> >> >>',
        b'<< /Length %d >>\nstream\n' % len(content) + content + b'\nendstream',
        b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    ]
    out = bytearray(b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n')
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b'%d 0 obj\n' % number + body + b'\nendobj\n'
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1)
    for offset in offsets:
        out += b'%010d 00000 n \n' % offset
    out += (b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n'
            % (len(objects) + 1, xref))
    return bytes(out)
