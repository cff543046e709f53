"""QWeb rendering on CPython 3.11, as mended by dev/odoo_compat/qweb.py.

Odoo 11.0's QWeb compiles every template to a Python AST built the 3.5 way
(``ast.arguments`` without ``posonlyargs``, ``ast.Name('None')``, line numbers
copied from the template). These tests render real templates with the plain
``QWeb`` class, no database: templates come from strings, through an
overridden ``get_template``.
"""
import ast
import builtins
import textwrap

import pytest
from lxml import etree

import odoo.addons.base.ir.ir_qweb.qweb as qweb_module
from odoo.addons.base.ir.ir_qweb.qweb import QWeb, QWebException

import odoo_compat.qweb as compat


class StringQWeb(QWeb):
    """QWeb reading its templates from a dict of XML strings."""

    def __init__(self, templates):
        self.templates = templates

    def get_template(self, template, options):
        # ``compile`` pops the t-* attributes off the element it is given:
        # parse a fresh tree each time, as ir.qweb does.
        document = self.templates[template]
        element = etree.fromstring(document)
        assert element.get('t-name') == template
        return element, document


def render(templates, name, values=None):
    if isinstance(templates, str):
        templates = {name: templates}
    result = StringQWeb(templates).render(name, values or {})
    assert isinstance(result, bytes)
    return result.decode('utf-8')


# --------------------------------------------------------------------------
# t-esc / t-raw
# --------------------------------------------------------------------------

ESC = '<t t-name="esc"><p><t t-esc="value"/></p></t>'


@pytest.mark.parametrize('value, expected', [
    ('plain', '<p>plain</p>'),
    ('<script>alert("x") & \'y\'</script>',
     # werkzeug 0.16's escape: &, <, > and " (not ')
     '<p>&lt;script&gt;alert(&quot;x&quot;) &amp; \'y\'&lt;/script&gt;</p>'),
    ('caf\u00e9 \u2713', '<p>caf\u00e9 \u2713</p>'),
    (42, '<p>42</p>'),
    (0, '<p>0</p>'),
    (1.5, '<p>1.5</p>'),
    (None, '<p></p>'),
    (False, '<p></p>'),
    (True, '<p>True</p>'),
    ('', '<p></p>'),
])
def test_t_esc(value, expected):
    assert render(ESC, 'esc', {'value': value}) == expected


def test_t_esc_on_an_element_with_default_content():
    template = ('<t t-name="t"><span t-esc="name">nobody</span>|'
                '<span class="c" t-esc="name"/>|<span t-esc="missing"/></t>')
    assert render(template, 't', {'name': 'Ann & Bob'}) == \
        '<span>Ann &amp; Bob</span>|<span class="c">Ann &amp; Bob</span>|'
    assert render(template, 't', {'name': None}) == '<span>nobody</span>||'


def test_t_raw():
    template = '<t t-name="t"><div t-raw="html"/><t t-raw="none"/><t t-raw="number"/></t>'
    values = {'html': '<b>bold</b> &amp; <script>1</script>', 'none': None, 'number': 7}
    assert render(template, 't', values) == '<div><b>bold</b> &amp; <script>1</script></div>7'


def test_expressions_with_lambdas_and_comprehensions():
    template = ('<t t-name="t"><t t-esc="\', \'.join(str(x * k) for x in items)"/>|'
                '<t t-esc="[x for x in items if x > k]"/>|'
                '<t t-esc="(lambda n: n * k)(3)"/>|'
                '<t t-esc="sorted(items, key=lambda v: -v)[0]"/>|'
                '<t t-esc="{i: i * i for i in items}[3]"/>|'
                '<t t-esc="len(items) if items else None"/></t>')
    assert render(template, 't', {'items': [1, 2, 3], 'k': 2}) == '2, 4, 6|[3]|6|3|9|3'


# --------------------------------------------------------------------------
# t-if / t-elif / t-else
# --------------------------------------------------------------------------

CONDITIONS = '''<t t-name="cond"><t t-if="value is None">none</t><t t-elif="value is True">true</t><t t-elif="value is False">false</t><t t-elif="value == 0">zero</t><t t-else="">other: <t t-esc="value"/></t></t>'''


@pytest.mark.parametrize('value, expected', [
    (None, 'none'),
    (True, 'true'),
    (False, 'false'),
    (0, 'zero'),
    ('x', 'other: x'),
    ([], 'other: []'),
])
def test_if_elif_else(value, expected):
    assert render(CONDITIONS, 'cond', {'value': value}) == expected


def test_if_on_elements_and_missing_values():
    template = ('<t t-name="t"><b t-if="flag">on</b><i t-else="">off</i>'
                '<u t-if="not missing and flag != None">set</u><s t-if="missing">never</s></t>')
    assert render(template, 't', {'flag': True}) == '<b>on</b><u>set</u>'
    assert render(template, 't', {'flag': False}) == '<i>off</i><u>set</u>'
    assert render(template, 't', {'flag': None}) == '<i>off</i>'


# --------------------------------------------------------------------------
# t-foreach
# --------------------------------------------------------------------------

def test_foreach_with_loop_variables():
    template = ('<t t-name="t"><ul>'
                '<li t-foreach="items" t-as="item" '
                't-att-class="\'first\' if item_first else (\'last\' if item_last else None)">'
                '<t t-esc="item_index"/>/<t t-esc="item_size"/>:<t t-esc="item"/>'
                ' <t t-esc="item_parity"/><t t-if="item_even">!</t>'
                '</li></ul></t>')
    assert render(template, 't', {'items': ['a', '<b>', 'c']}) == (
        '<ul>'
        '<li class="first">0/3:a even!</li>'
        '<li>1/3:&lt;b&gt; odd</li>'
        '<li class="last">2/3:c even!</li>'
        '</ul>')


def test_foreach_over_mapping_integer_and_empty():
    template = ('<t t-name="t">'
                '<t t-foreach="mapping" t-as="key"><t t-esc="key"/>=<t t-esc="key_value"/>;</t>|'
                '<t t-foreach="3" t-as="i"><t t-esc="i"/><t t-if="not i_last">,</t></t>|'
                '<t t-foreach="empty" t-as="e">never</t>|'
                '<t t-foreach="items" t-as="row"><t t-foreach="row" t-as="cell">'
                '<t t-esc="cell"/><t t-if="cell_last and not row_last">/</t></t></t>'
                '</t>')
    values = {'mapping': {'a': 1, 'b': None}, 'empty': [], 'items': [[1, 2], [3]]}
    assert render(template, 't', values) == 'a=1;b=;|0,1,2||12/3'


def test_foreach_copies_existing_variables_back():
    # Odoo 11.0's foreach_iterator writes the loop's values of variables that
    # existed before the loop back into the outer scope; new ones stay inside
    template = ('<t t-name="t"><t t-foreach="[1, 2]" t-as="item"><t t-esc="item"/></t>'
                '[<t t-esc="item"/>|<t t-esc="item_index"/>]</t>')
    assert render(template, 't', {'item': 'outer'}) == '12[2|]'


# --------------------------------------------------------------------------
# t-set
# --------------------------------------------------------------------------

def test_set_with_value_valuef_and_body():
    template = ('<t t-name="t">'
                '<t t-set="greeting" t-value="\'Hello\'"/>'
                '<t t-set="who" t-valuef="{{name}} ##{n}"/>'
                '<t t-set="block"><b t-esc="greeting"/> <t t-esc="who"/></t>'
                '<t t-set="empty"/>'
                '<t t-raw="block"/>|<t t-esc="block"/>|[<t t-esc="empty"/>]|'
                '<t t-set="greeting" t-value="greeting + \'!\'"/><t t-esc="greeting"/>'
                '</t>')
    assert render(template, 't', {'name': 'Ann', 'n': 3}) == (
        '<b>Hello</b> Ann #3|&lt;b&gt;Hello&lt;/b&gt; Ann #3|[]|Hello!')


# --------------------------------------------------------------------------
# t-att / t-attf
# --------------------------------------------------------------------------

def test_dynamic_attributes():
    template = ('<t t-name="t">'
                '<a class="static" t-att-href="url" t-attf-title="Go to {{name}} ##{n}" '
                't-att-data-none="none" t-att-data-false="False" t-att-data-empty="\'\'" '
                't-att-data-zero="0">link</a>'
                '<div t-att="{\'data-a\': 1, \'data-b\': None}"/>'
                '<div t-att="[\'id\', \'x&lt;y\']"/>'
                '<img t-att-src="url" alt="a &amp; b"/>'
                '<br/>'
                '</t>')
    values = {'url': '/web?a=1&b="2"', 'name': '<Ann>', 'n': 3, 'none': None}
    assert render(template, 't', values) == (
        '<a class="static" href="/web?a=1&amp;b=&quot;2&quot;" title="Go to &lt;Ann&gt; #3"'
        ' data-empty="">link</a>'
        '<div data-a="1"></div>'
        '<div id="x&lt;y"></div>'
        '<img alt="a &amp; b" src="/web?a=1&amp;b=&quot;2&quot;"/>'
        '<br/>')


# --------------------------------------------------------------------------
# t-call
# --------------------------------------------------------------------------

CALL_TEMPLATES = {
    'page': ('<t t-name="page"><main>'
             '<t t-call="card"><t t-set="title" t-value="\'Lead\'"/><em t-esc="body"/></t>'
             '<t t-call="footer"/>'
             '<t t-call="legal-#{which}"/>'
             '</main>[<t t-esc="title"/>]</t>'),
    'card': ('<t t-name="card"><section><h1 t-esc="title"/><t t-raw="0"/>'
             '<t t-set="title" t-value="\'changed\'"/></section></t>'),
    'footer': '<t t-name="footer"><footer>&#169; <t t-esc="company"/></footer></t>',
    'legal-fr': '<t t-name="legal-fr"><small>Mentions l\u00e9gales</small></t>',
}


def test_t_call_passes_body_and_scope():
    values = {'title': 'Default', 'body': '<x>', 'which': 'fr', 'company': 'ACME'}
    # the callee sees the t-set of the call's body and the caller's values;
    # what the callee sets does not come back to the caller
    assert render(CALL_TEMPLATES, 'page', values) == (
        '<main>'
        '<section><h1>Lead</h1><em>&lt;x&gt;</em></section>'
        '<footer>\u00a9 ACME</footer>'
        '<small>Mentions l\u00e9gales</small>'
        '</main>[Default]')


def test_unknown_template_in_t_call_raises():
    templates = {'a': '<t t-name="a"><t t-call="nowhere"/></t>'}
    with pytest.raises(QWebException) as info:
        render(templates, 'a')
    assert isinstance(info.value.error, KeyError)
    assert info.value.name == 'a'


def test_rendering_error_reports_the_template_node():
    templates = {'broken': '<t t-name="broken"><p>ok</p><div><span t-esc="1 / zero"/></div></t>'}
    with pytest.raises(QWebException) as info:
        render(templates, 'broken', {'zero': 0})
    error = info.value
    assert isinstance(error.error, ZeroDivisionError)
    assert error.name == 'broken'
    assert error.path == '/t/div/span'
    assert error.html == '<span t-esc="1 / zero"/>'


# --------------------------------------------------------------------------
# Templates spanning many lines (line numbers copied onto the AST)
# --------------------------------------------------------------------------

LONG_TEMPLATES = {
    'report': textwrap.dedent('''\
        <t t-name="report">
            <!-- a comment -->
            <h1 t-esc="title"/>



            <table>
                <tr t-foreach="lines" t-as="line"
                    t-att-class="line_odd and 'odd' or None">
                    <td t-esc="line['name']"/>
                    <td>
                        <t t-if="line['qty'] &gt; 1">
                            <t t-esc="line['qty']"/> units
                        </t>
                        <t t-else="">one unit</t>
                    </td>
                </tr>
            </table>
            <t t-set="summary">
                <p>
                    <t t-esc="len(lines)"/> lines
                </p>
            </t>
            <t t-raw="summary"/>
            <t t-call="signature">
                <t t-set="who" t-value="'Sales'"/>
            </t>
        </t>'''),
    'signature': textwrap.dedent('''\
        <t t-name="signature">


            <address>
                <t t-esc="who"/>
            </address>
        </t>'''),
}


def test_template_spanning_many_lines():
    values = {'title': 'Pipeline', 'lines': [{'name': 'A', 'qty': 3}, {'name': 'B', 'qty': 1}]}
    expected = (
        # Odoo 11.0 drops a comment together with its tail
        '\n'
        '    <h1>Pipeline</h1>\n'
        '\n\n\n'
        '    <table>\n'
        '        <tr>\n'
        '            <td>A</td>\n'
        '            <td>\n'
        '                \n'
        '                    3 units\n'
        '                \n'
        '            </td>\n'
        '        </tr><tr class="odd">\n'
        '            <td>B</td>\n'
        '            <td>\n'
        '                one unit\n'
        '            </td>\n'
        '        </tr>\n'
        '    </table>\n'
        '    \n'
        '    \n'
        '        <p>\n'
        '            2 lines\n'
        '        </p>\n'
        '    \n'
        '    \n'
        '\n\n'
        '    <address>\n'
        '        Sales\n'
        '    </address>\n'
        '\n')
    assert render(LONG_TEMPLATES, 'report', values) == expected


# --------------------------------------------------------------------------
# The patch itself
# --------------------------------------------------------------------------

def test_patch_is_installed():
    assert qweb_module.arguments is compat.arguments
    assert qweb_module.compile is compat.compile


def test_each_mend_is_needed(monkeypatch):
    """Proves these tests exercise the patch: without each part, QWeb fails."""
    values = {'title': 'T', 'lines': [{'name': 'A', 'qty': 1}]}
    assert render(LONG_TEMPLATES, 'report', values)

    def compile_names_only(source, filename, mode):
        # mends ast.Name('None') but not the line ranges
        tree = ast.fix_missing_locations(compat._ConstantNames().visit(source))
        return builtins.compile(tree, filename, mode)

    for module_compile, error in [
        (builtins.compile, "can't represent 'None' constant"),
        (compile_names_only, 'line range'),
    ]:
        with monkeypatch.context() as patch:
            patch.setattr(qweb_module, 'compile', module_compile)
            with pytest.raises(QWebException) as info:
                render(LONG_TEMPLATES, 'report', values)
            assert error in str(info.value.error)

    with monkeypatch.context() as patch:
        patch.setattr(qweb_module, 'arguments', ast.arguments)
        with pytest.raises(QWebException) as info:
            render(ESC, 'esc', {'value': 1})
        assert 'posonlyargs' in str(info.value.error)


def test_mend_ast_fixes_names_and_reversed_line_ranges():
    function = ast.FunctionDef(
        name='fn', args=compat.arguments(args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                         kwarg=None, defaults=[]),
        body=[ast.Return(value=ast.Name(id='None', ctx=ast.Load()))], decorator_list=[])
    function.lineno = 30
    module = ast.Module(body=[function], type_ignores=[])
    ast.fix_missing_locations(module)
    assert function.end_lineno < function.lineno
    with pytest.raises(ValueError):
        builtins.compile(module, '<template>', 'exec')

    namespace = {}
    exec(compat.compile(module, '<template>', 'exec'), namespace)
    assert namespace['fn']() is None
    returned = function.body[0].value
    assert isinstance(returned, ast.Constant) and returned.value is None
    for node in ast.walk(module):
        if hasattr(node, 'lineno'):
            assert node.end_lineno >= node.lineno


def test_mend_ast_leaves_stored_names_and_source_alone():
    tree = ast.parse('x = True')
    tree.body[0].targets[0] = ast.Name(id='True', ctx=ast.Store())
    mended = compat.mend_ast(tree)
    assert isinstance(mended.body[0].targets[0], ast.Name)
    # strings are compiled by the real builtin, unchanged
    code = compat.compile('y = 1 + 1', '<s>', 'exec')
    namespace = {}
    exec(code, namespace)
    assert namespace['y'] == 2
