"""Outgoing HTML prepared for tracking: which links change, and that nothing else does."""
import pytest

from email_crm_sync.lib.link_tracking import add_pixel, rewrite_links


def ids(cases):
    return [c[0] for c in cases]


def tracked(index):
    return 'https://crm.example.com/t/c/%d' % index


T0, T1, T2 = tracked(0), tracked(1), tracked(2)

CASES = [
    # (what is written, html, expected html, expected original URLs)
    ('empty body', '', '', []),
    ('no links', '<p>Hello <b>Bob</b></p>', '<p>Hello <b>Bob</b></p>', []),
    ('one https link', '<a href="https://acme.com/">Acme</a>',
     '<a href="%s">Acme</a>' % T0, ['https://acme.com/']),
    ('one http link', '<p>See <a href="http://acme.com/x">x</a>.</p>',
     '<p>See <a href="%s">x</a>.</p>' % T0, ['http://acme.com/x']),
    ('&amp; in the query string is unescaped in the list',
     '<a href="https://acme.com/?a=1&amp;b=2">q</a>',
     '<a href="%s">q</a>' % T0, ['https://acme.com/?a=1&b=2']),
    ('single quotes kept', "<a href='https://acme.com/'>a</a>",
     "<a href='%s'>a</a>" % T0, ['https://acme.com/']),
    ('bare value gets double quotes', '<a href=https://acme.com/x>a</a>',
     '<a href="%s">a</a>' % T0, ['https://acme.com/x']),
    ('href not first, other attributes kept',
     '<a class="btn" style="color:red" href="https://acme.com/" target="_blank" title="Go">Go</a>',
     '<a class="btn" style="color:red" href="%s" target="_blank" title="Go">Go</a>' % T0,
     ['https://acme.com/']),
    ('upper-case tag, attribute and scheme', '<A HREF="HTTPS://ACME.COM/Path">A</A>',
     '<A HREF="%s">A</A>' % T0, ['HTTPS://ACME.COM/Path']),
    ('mixed-case scheme', '<a href="Https://acme.com">a</a>', '<a href="%s">a</a>' % T0,
     ['Https://acme.com']),
    ('spaces around = and the URL', '<a href = "  https://acme.com/ \n">a</a>',
     '<a href = "%s">a</a>' % T0, ['https://acme.com/']),
    ('multiple links in order', '<a href="https://a.com">1</a> <a href="https://b.com">2</a>'
     ' <a href="http://c.com">3</a>',
     '<a href="%s">1</a> <a href="%s">2</a> <a href="%s">3</a>' % (T0, T1, T2),
     ['https://a.com', 'https://b.com', 'http://c.com']),
    ('the same URL twice is two links', '<a href="https://a.com">1</a><a href="https://a.com">2</a>',
     '<a href="%s">1</a><a href="%s">2</a>' % (T0, T1), ['https://a.com', 'https://a.com']),
    ('mailto untouched', '<a href="mailto:bob@acme.com">mail</a>',
     '<a href="mailto:bob@acme.com">mail</a>', []),
    ('tel untouched', '<a href="tel:+4930123">call</a>', '<a href="tel:+4930123">call</a>', []),
    ('anchor untouched', '<a href="#top">top</a>', '<a href="#top">top</a>', []),
    ('relative URL untouched', '<a href="/pricing">p</a>', '<a href="/pricing">p</a>', []),
    ('javascript untouched', '<a href="javascript:alert(1)">x</a>',
     '<a href="javascript:alert(1)">x</a>', []),
    ('no scheme untouched', '<a href="www.acme.com">w</a>', '<a href="www.acme.com">w</a>', []),
    ('protocol-relative untouched', '<a href="//acme.com">w</a>', '<a href="//acme.com">w</a>', []),
    ('ftp untouched', '<a href="ftp://acme.com/f">f</a>', '<a href="ftp://acme.com/f">f</a>', []),
    ('scheme only untouched', '<a href="https://">x</a>', '<a href="https://">x</a>', []),
    ('an anchor without href untouched', '<a name="top"></a>', '<a name="top"></a>', []),
    ('a bare href attribute untouched', '<a href>x</a>', '<a href>x</a>', []),
    ('mixed: mailto between two web links',
     '<a href="https://a.com">1</a><a href="mailto:x@y.z">m</a><a href="https://b.com">2</a>',
     '<a href="%s">1</a><a href="mailto:x@y.z">m</a><a href="%s">2</a>' % (T0, T1),
     ['https://a.com', 'https://b.com']),
    ('data-href is not href', '<a data-href="https://a.com" href="#x">x</a>',
     '<a data-href="https://a.com" href="#x">x</a>', []),
    ('href= inside another attribute is not the href',
     '<a title=\'say href="https://evil.com"\' href="https://a.com">x</a>',
     '<a title=\'say href="https://evil.com"\' href="%s">x</a>' % T0, ['https://a.com']),
    ('">" inside a quoted attribute', '<a title="a > b" href="https://a.com">x</a>',
     '<a title="a > b" href="%s">x</a>' % T0, ['https://a.com']),
    ('the first of two hrefs counts, as in browsers',
     '<a href="https://a.com" href="https://b.com">x</a>',
     '<a href="%s" href="https://b.com">x</a>' % T0, ['https://a.com']),
    ('multi-line tag', '<a\n  class="x"\n  href="https://a.com"\n>x</a>',
     '<a\n  class="x"\n  href="%s"\n>x</a>' % T0, ['https://a.com']),
    ('<abbr> and <area> are not <a>', '<abbr title="https://a.com">A</abbr>'
     '<area href="https://a.com">', '<abbr title="https://a.com">A</abbr><area href="https://a.com">', []),
    ('link text that is a URL stays', '<a href="https://a.com">https://a.com</a> https://b.com',
     '<a href="%s">https://a.com</a> https://b.com' % T0, ['https://a.com']),
    ('links inside comments skipped', '<!-- <a href="https://a.com">x</a> --><a href="https://b.com">y</a>',
     '<!-- <a href="https://a.com">x</a> --><a href="%s">y</a>' % T0, ['https://b.com']),
    ("Outlook's conditional comment skipped",
     '<!--[if mso]><a href="https://a.com">o</a><![endif]--><a href="https://a.com">b</a>',
     '<!--[if mso]><a href="https://a.com">o</a><![endif]--><a href="%s">b</a>' % T0, ['https://a.com']),
    ('unclosed comment runs to the end', '<a href="https://a.com">1</a><!-- <a href="https://b.com">',
     '<a href="%s">1</a><!-- <a href="https://b.com">' % T0, ['https://a.com']),
    ('"<a" inside another tag\'s attribute', '<img alt="<a href=\'https://a.com\'>">',
     '<img alt="<a href=\'https://a.com\'>">', []),
    ('other entities unescaped too', '<a href="https://a.com/?q=a&#38;b&quot;">x</a>',
     '<a href="%s">x</a>' % T0, ['https://a.com/?q=a&b"']),
    ('non-ASCII around is kept', '<p>Grüße — <a href="https://a.com/ü">ü</a> 🙂</p>',
     '<p>Grüße — <a href="%s">ü</a> 🙂</p>' % T0, ['https://a.com/ü']),
    ('a tag that never closes ends the search, as in browsers',
     '<a href="https://a.com">1</a><a href="https://b.com" title="2',
     '<a href="%s">1</a><a href="https://b.com" title="2' % T0, ['https://a.com']),
    ('"<p" inside a tag is an attribute, as in browsers', '<a href="https://a.com" <p>2</p>',
     '<a href="%s" <p>2</p>' % T0, ['https://a.com']),
    ('"<" before a space is text', '<p>1 < 2</p><a href="https://a.com">x</a>',
     '<p>1 < 2</p><a href="%s">x</a>' % T0, ['https://a.com']),
    ('self-closing style', '<a href="https://a.com"/>', '<a href="%s"/>' % T0, ['https://a.com']),
]


@pytest.mark.parametrize('case, html, expected, urls', CASES, ids=ids(CASES))
def test_rewrite_links(case, html, expected, urls):
    assert rewrite_links(html, tracked) == (expected, urls)


def test_none_body_is_empty():
    assert rewrite_links(None, tracked) == ('', [])


def test_new_href_is_attribute_escaped():
    def make_url(index):
        return 'https://crm.example.com/t?i=%d&x="<y>\'' % index
    html, urls = rewrite_links("<a href='https://a.com'>a</a>", make_url)
    assert html == "<a href='https://crm.example.com/t?i=0&amp;x=&quot;&lt;y&gt;&#x27;'>a</a>"
    assert urls == ['https://a.com']


def test_everything_outside_the_hrefs_is_byte_identical():
    html = ('<!DOCTYPE html>\n<html><head><style>a[href]{color:red}</style></head>\n'
            '<body  bgcolor=#fff><table><tr><td><A  Class=x HREF="https://a.com/?a=1&amp;b=2" >A</A>'
            '</td></tr></table>\n<p>5 < 6 & 7 > 3</p><a href="mailto:m@x.y">m</a>\r\n'
            '<a href=\'http://b.com\'>B</a></body></html>\n')
    new, urls = rewrite_links(html, lambda i: 'TRACKED-%d' % i)
    assert urls == ['https://a.com/?a=1&b=2', 'http://b.com']
    assert new == (html.replace('"https://a.com/?a=1&amp;b=2"', '"TRACKED-0"')
                   .replace("'http://b.com'", "'TRACKED-1'"))


def test_make_url_is_called_once_per_link_in_order():
    calls = []

    def make_url(index):
        calls.append(index)
        return tracked(index)
    rewrite_links('<a href="https://a.com">1</a><a href="#x">2</a><a href="https://b.com">3</a>', make_url)
    assert calls == [0, 1]


@pytest.mark.parametrize('broken', ['<a ' * 30000, '<a "' * 30000, '<a x' * 30000, '<a' + 'b' * 100000,
                                    '<!--' * 30000, "<b " + "'" * 100001, '<a href="https://x.com"' * 10000],
                         ids=['<a ', '<a "', '<a x', 'long name', '<!--', 'quotes', 'hrefs never closed'])
def test_broken_bodies_take_linear_time(broken):
    # Each shape took tens of seconds with a plain re.sub over every "<".
    import time
    html = '<a href="https://a.com">x</a>' * 2000 + broken
    start = time.perf_counter()
    new, urls = rewrite_links(html, tracked)
    assert len(urls) == 2000 and new.endswith(broken)
    assert time.perf_counter() - start < 1


PIXEL = ('<img src="https://crm.example.com/t/o/1.0.sig" width="1" height="1" alt="" '
         'style="display:block;width:1px;height:1px;border:0">')

PIXEL_CASES = [
    # (what is written, html, expected)
    ('before </body>', '<html><body><p>Hi</p></body></html>',
     '<html><body><p>Hi</p>%s</body></html>' % PIXEL),
    ('upper-case </BODY>', '<HTML><BODY>Hi</BODY></HTML>', '<HTML><BODY>Hi%s</BODY></HTML>' % PIXEL),
    ('</body > with a space', '<body>Hi</body >', '<body>Hi%s</body >' % PIXEL),
    ('no body tag: at the end', '<p>Hi</p>', '<p>Hi</p>%s' % PIXEL),
    ('empty body', '', PIXEL),
    ('the last </body> of two', '<body><pre>&lt;/body&gt;</pre><!-- </body> --></body>',
     '<body><pre>&lt;/body&gt;</pre><!-- </body> -->%s</body>' % PIXEL),
    ('</bodyx> is not </body>', '<p>x</p></bodyx>', '<p>x</p></bodyx>%s' % PIXEL),
]


@pytest.mark.parametrize('case, html, expected', PIXEL_CASES, ids=ids(PIXEL_CASES))
def test_add_pixel(case, html, expected):
    assert add_pixel(html, 'https://crm.example.com/t/o/1.0.sig') == expected


def test_pixel_url_is_attribute_escaped():
    assert add_pixel('', 'https://x.com/p?a=1&b="2"') == PIXEL.replace(
        'https://crm.example.com/t/o/1.0.sig', 'https://x.com/p?a=1&amp;b=&quot;2&quot;')
