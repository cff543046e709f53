"""Prepare an outgoing HTML body for open and click tracking.

``rewrite_links`` points every web link (http:// or https://) at a tracking
URL and returns the original URLs in link order: the link at position ``i``
of that list now points at ``make_url(i)``. A URL that appears twice is two
links with two indexes, so a click tells which of them was used.

Other links stay as they are: mailto:, tel:, #anchors, relative URLs,
javascript: and anything else without an http(s) scheme. Links inside HTML
comments (including Outlook's ``<!--[if mso]>`` blocks) are not rewritten,
nor links after a tag that never closes (browsers read the rest of the
document as that tag).

The document is not parsed and written back: a regular expression finds the
start tags and only the value of an <a> tag's href changes, so everything
else (spacing, attribute order, comments, broken markup) stays byte-identical.

``add_pixel`` adds the 1x1 open-tracking image before </body>.
"""
import re
from html import escape, unescape

# Where a comment or a start tag begins. Every start tag is read, not only
# <a>, so that "<a" written inside another tag's attribute does not count.
_MARKUP_START = re.compile(r'<!--|<[a-zA-Z]')
# A comment, to its end or to the end of the document if it is never closed
# (as browsers read it).
_COMMENT = re.compile(r'<!--(?:.*?-->|.*\Z)', re.DOTALL)
# A start tag: its name and its attributes, where a ">" inside a quoted value
# does not end the tag. The lookahead pins the name's end, so that a tag that
# never closes fails at once instead of trying every shorter name.
_TAG = re.compile(r'<([a-zA-Z][^\s/>"\']*)(?![^\s/>"\'])((?:[^>"\']|"[^"]*"|\'[^\']*\')*)>')
# One attribute inside a start tag: a name, and maybe "=" and a value that is
# double-quoted, single-quoted or bare. Scanning attributes in order keeps an
# "href=" written inside another attribute's value from counting.
_ATTRIBUTE = re.compile(
    r'([^\s"\'>/=][^\s"\'>/=]*)(?:\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+)))?')
# A web address: the scheme, "//" and at least one more character.
_WEB_URL = re.compile(r'https?://\S', re.IGNORECASE)
# Browsers drop these around a URL (HTML's "ASCII whitespace").
_URL_SPACES = ' \t\n\r\f'
_BODY_END = re.compile(r'</body\s*>', re.IGNORECASE)

PIXEL = ('<img src="%s" width="1" height="1" alt="" '
         'style="display:block;width:1px;height:1px;border:0">')


def _href_value(attributes: str):
    """The first href of a tag's attributes: the span (start, end) of its value,
    quotes included, the quote ('' when bare) and the value's text. None when
    there is no href with a value."""
    for attribute in _ATTRIBUTE.finditer(attributes):
        if attribute.group(1).lower() != 'href':
            continue
        # The first href counts, as in browsers.
        for group, quote in ((2, '"'), (3, "'"), (4, '')):
            if attribute.group(group) is not None:
                start, end = attribute.span(group)
                return (start - len(quote), end + len(quote)), quote, attribute.group(group)
        return None  # a bare "href" has no URL
    return None


def _web_url(raw: str) -> str | None:
    """The URL a browser would follow for this href value, if it is a web URL."""
    url = unescape(raw).strip(_URL_SPACES)
    return url if _WEB_URL.match(url) else None


def rewrite_links(html: str, make_url) -> tuple[str, list[str]]:
    """The body with every web link pointing at ``make_url(index)``, and the
    original URLs (unescaped) in link order."""
    html = html or ''
    urls = []

    def replace(match):
        if match.group(1).lower() != 'a':
            return match.group(0)
        found = _href_value(match.group(2))
        if found is None:
            return match.group(0)
        (start, end), quote, raw = found
        url = _web_url(raw)
        if url is None:
            return match.group(0)
        new_url = escape(make_url(len(urls)), quote=True)
        urls.append(url)
        # Keep the quote the author used; a bare value gets double quotes.
        quote = quote or '"'
        offset = match.start(2) - match.start(0)
        tag = match.group(0)
        return tag[:offset + start] + quote + new_url + quote + tag[offset + end:]

    parts, copied, at = [], 0, 0  # html[:copied] is in parts; the search goes on from at
    while True:
        start = _MARKUP_START.search(html, at)
        if start is None:
            break
        if start.group(0) == '<!--':
            at = _COMMENT.match(html, start.start()).end()
            continue
        tag = _TAG.match(html, start.start())
        if tag is None:
            # A tag that never closes: browsers take the rest of the document
            # into it, so there is nothing more to find. (Going on from the next
            # "<" would make a long broken body take quadratic time.)
            break
        parts.append(html[copied:tag.start()])
        parts.append(replace(tag))
        copied = at = tag.end()
    parts.append(html[copied:])
    return ''.join(parts), urls


def add_pixel(html: str, pixel_url: str) -> str:
    """The body with the open-tracking image just before </body>, or at the end.
    The URL is attribute-escaped ("&" becomes "&amp;")."""
    pixel = PIXEL % escape(pixel_url, quote=True)
    html = html or ''
    ends = list(_BODY_END.finditer(html))
    if not ends:
        return html + pixel
    # The last </body>: an earlier one can only be inside a comment or text.
    at = ends[-1].start()
    return html[:at] + pixel + html[at:]
