"""odoo.tools.safe_eval on CPython 3.11, as mended by dev/odoo_compat/safe_eval.py.

safe_eval is a security boundary. These tests prove both halves of the
compatibility patch: what Odoo data and server actions need now evaluates on
3.11, and what the sandbox refused before is still refused, with the
exception type Odoo itself raises.
"""
import datetime
import importlib.util
import sys
import time
from opcode import opmap

import pytest
from dateutil.relativedelta import relativedelta

import odoo_compat.safe_eval as compat
from odoo.tools.safe_eval import const_eval, expr_eval, safe_eval
# imported under another name so that pytest does not collect it as a test
from odoo.tools.safe_eval import test_python_expr as check_python_expr

# ``odoo.tools`` re-exports the function safe_eval under the module's name
safe_eval_module = sys.modules['odoo.tools.safe_eval']


# --------------------------------------------------------------------------
# Refused
# --------------------------------------------------------------------------

# (source, mode, exception Odoo raises, regex its message matches)
REFUSED = [
    # dunder names are refused statically, before any evaluation (NameError)
    ("__import__('os')", 'eval', NameError, r"forbidden name '__import__'"),
    ("().__class__.__bases__[0].__subclasses__()", 'eval', NameError, r"forbidden name '__class__'"),
    ("(lambda: 0).__code__", 'eval', NameError, r"forbidden name '__code__'"),
    ("[x for x in ().__class__.__mro__]", 'eval', NameError, r"forbidden name '__class__'"),
    ("(lambda: 0).__globals__", 'eval', NameError, r"forbidden name '__globals__'"),
    ("x.__dict__", 'eval', NameError, r"forbidden name '__dict__'"),
    ("x: int = 1", 'exec', NameError, r"forbidden name '__annotations__'"),
    # frame / code attributes are refused by name (NameError)
    ("(x for x in [1]).gi_frame", 'eval', NameError, r"forbidden name 'gi_frame'"),
    ("(x for x in [1]).gi_frame.f_globals", 'eval', NameError, r"forbidden name 'gi_frame'"),
    ("x.f_globals", 'eval', NameError, r"forbidden name 'f_globals'"),
    ("x.f_locals", 'eval', NameError, r"forbidden name 'f_locals'"),
    ("x.f_builtins", 'eval', NameError, r"forbidden name 'f_builtins'"),
    ("(lambda: 0).func_globals", 'eval', NameError, r"forbidden name 'func_globals'"),
    ("x.co_code", 'eval', NameError, r"forbidden name 'co_code'"),
    # builtins outside the sandbox's own table: the NameError raised while
    # evaluating is re-raised by safe_eval as a ValueError
    ("open('/etc/passwd')", 'eval', ValueError, r"NameError.*name 'open' is not defined"),
    ("getattr((), '__class__')", 'eval', ValueError, r"name 'getattr' is not defined"),
    ("setattr(x, 'y', 1)", 'eval', ValueError, r"name 'setattr' is not defined"),
    ("eval('1')", 'eval', ValueError, r"name 'eval' is not defined"),
    ("exec('y = 1')", 'eval', ValueError, r"name 'exec' is not defined"),
    ("compile('1', '', 'eval')", 'eval', ValueError, r"name 'compile' is not defined"),
    ("type(x)", 'eval', ValueError, r"name 'type' is not defined"),
    ("globals()", 'eval', ValueError, r"name 'globals' is not defined"),
    ("vars(x)", 'eval', ValueError, r"name 'vars' is not defined"),
    # forbidden opcodes are refused statically (ValueError)
    ("import os", 'exec', ValueError, r"forbidden opcode\(s\).*IMPORT_NAME"),
    ("from os import path", 'exec', ValueError, r"forbidden opcode\(s\).*IMPORT_(NAME|FROM)"),
    ("from os import *", 'exec', ValueError, r"forbidden opcode\(s\).*IMPORT_(NAME|STAR)"),
    ("x.y = 1", 'exec', ValueError, r"forbidden opcode\(s\).*STORE_ATTR"),
    ("del x.y", 'exec', ValueError, r"forbidden opcode\(s\).*DELETE_ATTR"),
    ("global x\nx = 1", 'exec', ValueError, r"forbidden opcode\(s\).*STORE_GLOBAL"),
    ("def f():\n    global x\n    x = 1", 'exec', ValueError, r"forbidden opcode\(s\).*STORE_GLOBAL"),
    ("def f():\n    global x\n    del x", 'exec', ValueError, r"forbidden opcode\(s\).*DELETE_GLOBAL"),
    ("with x:\n    pass", 'exec', ValueError, r"forbidden opcode\(s\).*BEFORE_WITH"),
    ("class A:\n    pass", 'exec', ValueError, r"forbidden opcode\(s\).*LOAD_BUILD_CLASS"),
    ("def f():\n    y = 1\n    return lambda: y", 'exec', ValueError, r"forbidden opcode\(s\).*LOAD_CLOSURE"),
    ("lambda y: (lambda: y)", 'eval', ValueError, r"forbidden opcode\(s\).*LOAD_CLOSURE"),
    # 3.11 constructs whose opcodes were never whitelisted stay refused
    ("def g():\n    yield from x", 'exec', ValueError, r"forbidden opcode\(s\).*GET_YIELD_FROM_ITER"),
    ("async def f():\n    await x", 'exec', ValueError, r"forbidden opcode\(s\).*GET_AWAITABLE"),
    ("async def f():\n    async with x:\n        pass", 'exec', ValueError, r"forbidden opcode\(s\).*BEFORE_ASYNC_WITH"),
    ("match x:\n    case int():\n        pass", 'exec', ValueError, r"forbidden opcode\(s\).*MATCH_CLASS"),
    ("match x:\n    case {'a': y}:\n        pass", 'exec', ValueError, r"forbidden opcode\(s\).*MATCH_MAPPING"),
    ("try:\n    pass\nexcept* ValueError:\n    pass", 'exec', ValueError, r"forbidden opcode\(s\).*CHECK_EG_MATCH"),
    # refused on 3.6 too (not whitelisted by Odoo 11.0)
    ("del d['a']", 'exec', ValueError, r"forbidden opcode\(s\).*DELETE_SUBSCR"),
    ("a, *b = [1, 2]", 'exec', ValueError, r"forbidden opcode\(s\).*UNPACK_EX"),
    ("{**d, 'z': 1}", 'eval', ValueError, r"forbidden opcode\(s\).*DICT_UPDATE"),
]


@pytest.mark.parametrize('source, mode, exc_type, message', REFUSED,
                         ids=[case[0] for case in REFUSED])
def test_refused(source, mode, exc_type, message):
    context = {'x': object(), 'd': {'a': 1}}
    with pytest.raises(exc_type, match=message) as info:
        safe_eval(source, context, mode=mode)
    # exactly the type Odoo raises, not a subclass that would hide a change
    assert type(info.value) is exc_type


STATIC_OPCODE_REFUSALS = [(source, mode) for source, mode, exc_type, message in REFUSED
                          if 'forbidden opcode' in message]
STATIC_NAME_REFUSALS = [(source, mode) for source, mode, exc_type, message in REFUSED
                        if exc_type is NameError]


@pytest.mark.parametrize('source, mode', STATIC_OPCODE_REFUSALS,
                         ids=[case[0] for case in STATIC_OPCODE_REFUSALS])
def test_forbidden_opcodes_reported_by_test_python_expr(source, mode):
    """test_python_expr (the check behind the server action form) reports a
    forbidden opcode as a message, without evaluating anything."""
    message = check_python_expr(source, mode=mode)
    assert message.startswith('forbidden opcode(s) in ')


@pytest.mark.parametrize('source, mode', STATIC_NAME_REFUSALS,
                         ids=[case[0] for case in STATIC_NAME_REFUSALS])
def test_forbidden_names_raise_from_test_python_expr(source, mode):
    # Odoo 11.0 catches only SyntaxError/TypeError/ValueError there
    with pytest.raises(NameError, match='Access to forbidden name'):
        check_python_expr(source, mode=mode)


def test_code_objects_are_refused():
    with pytest.raises(TypeError, match='code objects'):
        safe_eval(compile('1', '', 'eval'))


def test_sandbox_builtins_stay_restricted():
    builtins = safe_eval_module._BUILTINS
    for name in ('open', 'getattr', 'setattr', 'delattr', 'eval', 'exec', 'compile',
                 'type', 'globals', 'locals', 'vars', 'dir', 'input', 'breakpoint',
                 'memoryview', 'object', 'super', 'classmethod', 'staticmethod'):
        assert name not in builtins, name
    assert builtins['__import__'] is safe_eval_module._import


@pytest.mark.parametrize('module', ['os', 'sys', 'subprocess', 'importlib', 'builtins'])
def test_sandbox_import_refuses_other_modules(module):
    with pytest.raises(ImportError):
        safe_eval_module._import(module)


def test_sandbox_cannot_alter_callers_dicts_without_nocopy():
    globals_dict = {'a': 1}
    locals_dict = {'b': 2}
    safe_eval("c = a + b\nb = 5", globals_dict, locals_dict, mode='exec')
    assert globals_dict == {'a': 1}
    assert locals_dict == {'b': 2}


# --------------------------------------------------------------------------
# Accepted
# --------------------------------------------------------------------------

TODAY = datetime.date(2024, 3, 5)

EVAL_CONTEXT = {
    'uid': 7,
    'context': {'active_id': 42, 'lang': 'fr_FR'},
    'time': time,
    'datetime': datetime,
    'relativedelta': relativedelta,
    'context_today': lambda: TODAY,
    'x': None,
    'a': 1,
    'b': 'x',
    's': 'abcdef',
    'items': [10, 20, 30, 40],
    'record': type('Record', (), {'name': 'Lead', 'partner_id': False})(),
}

# (source, extra context, expected value)
ACCEPTED = [
    # domains and contexts as written in Odoo's XML data
    ("[('user_id', '=', uid), ('state', 'in', ['draft', 'open'])]", {},
     [('user_id', '=', 7), ('state', 'in', ['draft', 'open'])]),
    ("{'default_type': 'opportunity', 'search_default_assigned_to_me': 1}", {},
     {'default_type': 'opportunity', 'search_default_assigned_to_me': 1}),
    ("['|', ('a', '=', False), ('b', '!=', None)]", {},
     ['|', ('a', '=', False), ('b', '!=', None)]),
    ("context.get('active_id') and [('id', '=', context['active_id'])] or []", {},
     [('id', '=', 42)]),
    ("context.get('active_id') and [('id', '=', context['active_id'])] or []", {'context': {}},
     []),
    ("{'lang': context.get('lang'), 'default_user_id': uid, 'active_test': False}", {},
     {'lang': 'fr_FR', 'default_user_id': 7, 'active_test': False}),
    ("[('date', '>=', (context_today() - relativedelta(days=7)).strftime('%Y-%m-%d'))]", {},
     [('date', '>=', '2024-02-27')]),
    ("(context_today() - relativedelta(days=7)).strftime('%Y-%m-%d')", {}, '2024-02-27'),
    ("datetime.datetime.combine(context_today(), datetime.time(0, 0, 0)).strftime('%Y-%m-%d %H:%M:%S')", {},
     '2024-03-05 00:00:00'),
    ("(context_today() + relativedelta(months=1, day=1)).isoformat()", {}, '2024-04-01'),
    ("record.partner_id and record.partner_id.name or record.name", {}, 'Lead'),
    ("not record.partner_id", {}, True),
    # expressions
    ("[x * 2 for x in range(3)]", {}, [0, 2, 4]),
    ("[i for i in items if i > 15]", {}, [20, 30, 40]),
    ("{k: v for k, v in [('a', 1), ('b', 2)]}", {}, {'a': 1, 'b': 2}),
    ("{i % 2 for i in items}", {}, {0}),
    ("sum(x for x in [1, 2, 3])", {}, 6),
    ("dict(a=1, **{'b': 2})", {}, {'a': 1, 'b': 2}),
    ("dict(**context)", {}, {'active_id': 42, 'lang': 'fr_FR'}),
    ("max(items, key=lambda v: -v)", {}, 10),
    ("(lambda p, q=2: p + q)(1)", {}, 3),
    ("list(map(lambda v: v + 1, [1, 2]))", {}, [2, 3]),
    ("x is None", {}, True),
    ("a is not None", {}, True),
    ("'a' in 'abc'", {}, True),
    ("'z' not in 'abc'", {}, True),
    ("f'{a}-{b}'", {}, '1-x'),
    ("f'{a!r:>4}|{b:>{a}}'", {}, '   1|x'),
    ("'%s/%s' % (a, b)", {}, '1/x'),
    ("'yes' if a > 0 else 'no'", {}, 'yes'),
    ("'yes' if a > 1 else 'no'", {}, 'no'),
    ("0 < a < 2", {}, True),
    ("s[1:3]", {}, 'bc'),
    ("s[::-1]", {}, 'fedcba'),
    ("items[-2:]", {}, [30, 40]),
    ("s[::2]", {}, 'ace'),
    ("{1, 2, 3}", {}, {1, 2, 3}),
    ("[1, 2, 3, 4, 5]", {}, [1, 2, 3, 4, 5]),
    ("(1, 'a', None, 2.5, True)", {}, (1, 'a', None, 2.5, True)),
    ("[*items, 50]", {}, [10, 20, 30, 40, 50]),
    ("(a + 2) * 3 - 4 / 2", {}, 7.0),
    ("(-a, 2 ** a, 7 // 2, 7 % 2, 6 | a, 3 & a, 3 ^ a, a << 3, 8 >> a)", {}, (-1, 2, 3, 1, 7, 1, 2, 8, 4)),
    ("~a", {}, -2),
    ("len(items) > 2 and items[0]", {}, 10),
    ("sorted(items, reverse=True)[0]", {'sorted': sorted}, 40),
    ("isinstance(a, int) and str(a).zfill(3)", {}, '001'),
]


@pytest.mark.parametrize('source, extra, expected', ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_accepted(source, extra, expected):
    assert check_python_expr(source) is False
    assert safe_eval(source, dict(EVAL_CONTEXT, **extra)) == expected


def test_time_strftime_in_domain():
    before = time.strftime('%Y-%m-%d')
    result = safe_eval("[('create_date', '>=', time.strftime('%Y-%m-%d'))]", {'time': time})
    after = time.strftime('%Y-%m-%d')
    assert len(result) == 1
    assert result[0][:2] == ('create_date', '>=')
    assert result[0][2] in (before, after)


def test_leading_and_trailing_whitespace_in_eval_mode():
    # XML attributes often carry newlines around the expression
    assert safe_eval("\n    [('a', '=', 1)]\n  ") == [('a', '=', 1)]


SERVER_ACTION = """
total = 0
seen = []
for line in lines:
    if line['qty'] > 1:
        total += line['qty'] * line['price']
    elif line['qty'] == 1:
        total += line['price']
    else:
        continue
    seen.append(line['id'])
try:
    ratio = total / divisor
except Exception:
    ratio = 0
try:
    missing = lines[99]
except IndexError:
    missing = None
except Exception as e:
    missing = str(e)
count = 0
while count < 3:
    count += 1
first, second = seen[:2]
def double(value, factor=2):
    return value * factor
message = 'total: %s' % double(total)
action = {
    'type': 'ir.actions.act_window',
    'res_model': 'crm.lead',
    'domain': [('id', 'in', seen)],
    'context': {'total': total, 'ratio': ratio, 'count': count,
                'pair': (first, second), 'missing': missing},
    'name': message,
}
"""


def test_server_action_style_exec():
    globals_dict = {
        'lines': [
            {'id': 1, 'qty': 2, 'price': 10.0},
            {'id': 2, 'qty': 1, 'price': 5.0},
            {'id': 3, 'qty': 0, 'price': 99.0},
        ],
        'divisor': 0,
        'IndexError': IndexError,
    }
    locals_dict = {}
    assert check_python_expr(SERVER_ACTION, mode='exec') is False
    result = safe_eval(SERVER_ACTION, globals_dict, locals_dict, mode='exec', nocopy=True)
    assert result is None
    assert locals_dict['action'] == {
        'type': 'ir.actions.act_window',
        'res_model': 'crm.lead',
        'domain': [('id', 'in', [1, 2])],
        'context': {'total': 25.0, 'ratio': 0, 'count': 3, 'pair': (1, 2), 'missing': None},
        'name': 'total: 50.0',
    }
    # nocopy: the sandbox wrote into the caller's dicts
    assert locals_dict['total'] == 25.0
    assert globals_dict['__builtins__'] is safe_eval_module._BUILTINS


def test_server_action_with_globals_only():
    """ir.actions.server runs its code with one dict (globals), nocopy."""
    eval_context = {'records': [3, 1, 2]}
    code = "action = {'ids': [r for r in records if r > 1]}\nif not action['ids']:\n    action = False"
    safe_eval(code, eval_context, mode='exec', nocopy=True)
    assert eval_context['action'] == {'ids': [3, 2]}


def test_raise_inside_sandbox_is_reported_as_value_error():
    with pytest.raises(ValueError, match='boom'):
        safe_eval("try:\n    raise Exception('boom')\nexcept Exception:\n    raise", {}, mode='exec')


def test_assert_statement_in_exec_mode():
    """``assert`` was accepted on 3.6 (LOAD_GLOBAL AssertionError); 3.11
    compiles it to LOAD_ASSERTION_ERROR."""
    locals_dict = {}
    safe_eval("assert ok, 'fine'\nr = 1", {'ok': True}, locals_dict, mode='exec', nocopy=True)
    assert locals_dict['r'] == 1
    with pytest.raises(ValueError, match='AssertionError.*must be positive'):
        safe_eval("assert n > 0, 'must be positive'", {'n': -1}, mode='exec')


def test_generator_function_in_exec_mode():
    locals_dict = {}
    safe_eval("def gen(n):\n    for i in range(n):\n        yield i * i\nr = list(gen(4))",
              {}, locals_dict, mode='exec', nocopy=True)
    assert locals_dict['r'] == [0, 1, 4, 9]


# --------------------------------------------------------------------------
# const_eval / expr_eval
# --------------------------------------------------------------------------

def test_const_eval_accepts_literals():
    # the samples of Odoo 11.0's own test_base.TestSafeEval
    assert const_eval('(1, {"a": {2.5}}, [None, u"foo"])') == (1, {"a": {2.5}}, [None, "foo"])
    assert safe_eval('(1, {"a": 9 * 2}, (True, False, None))') == (1, {"a": 18}, (True, False, None))
    assert const_eval("[1, 2, (3, 4), {'a': 'b'}]") == [1, 2, (3, 4), {'a': 'b'}]
    assert const_eval("10") == 10
    assert const_eval("{1, 2, 3}") == {1, 2, 3}
    assert const_eval("[1, 2, 3, 4, 5]") == [1, 2, 3, 4, 5]


def test_const_eval_accepts_operations_the_compiler_folds():
    # ``1 + 2`` compiles to LOAD_CONST 3 (3.6's peephole optimizer folded it
    # too), so there is no operation left for const_eval to refuse
    assert const_eval("1 + 2") == 3


@pytest.mark.parametrize('source, opcode', [
    ('[1] + [2]', 'BINARY_OP'),
    ('[1, 2][0]', 'BINARY_SUBSCR'),
    ('not []', 'UNARY_NOT'),
    ('1 < len', 'LOAD_NAME'),
    ('a', 'LOAD_NAME'),
    ('len([])', 'LOAD_NAME'),
])
def test_const_eval_refuses_operations(source, opcode):
    with pytest.raises(ValueError, match='forbidden opcode.*' + opcode):
        const_eval(source)


def test_expr_eval_accepts_operations_on_literals():
    assert expr_eval("1 + 2") == 3
    assert expr_eval("[1, 2] * 2") == [1, 2, 1, 2]
    assert expr_eval("(7 // 2, 7 % 2, -3, 2 ** 10)") == (3, 1, -3, 1024)
    assert expr_eval("1 in (1, 2)") is True
    assert expr_eval("None is None") is True
    assert expr_eval("'abc'[1]") == 'b'


@pytest.mark.parametrize('source, exc_type, message', [
    ("a + 1", ValueError, r"forbidden opcode.*LOAD_NAME"),
    ("len('x')", ValueError, r"forbidden opcode.*LOAD_NAME"),
    ("__import__('sys').modules", NameError, r"forbidden name '__import__'"),
])
def test_expr_eval_refuses_names(source, exc_type, message):
    with pytest.raises(exc_type, match=message):
        expr_eval(source)


# --------------------------------------------------------------------------
# The opcode whitelists themselves
# --------------------------------------------------------------------------

def _pristine_safe_eval():
    """A second copy of Odoo's safe_eval module, executed without the patch."""
    spec = importlib.util.spec_from_file_location(
        'odoo.tools._pristine_safe_eval', safe_eval_module.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _codes(names):
    return {opmap[name] for name in names}


def test_compat_opcode_names_all_exist_on_this_python():
    # odoo_compat skips unknown names silently: a typo would go unnoticed
    names = (compat.CONST_OPCODES_311 + compat.EXPR_OPCODES_311
             + compat.SAFE_OPCODES_311 + compat.FORBIDDEN_OPCODES)
    assert [name for name in names if name not in opmap] == []


def test_forbidden_opcodes_are_not_whitelisted():
    forbidden = _codes(compat.FORBIDDEN_OPCODES)
    assert len(forbidden) == len(compat.FORBIDDEN_OPCODES)
    for name in compat.FORBIDDEN_OPCODES:
        assert opmap[name] not in safe_eval_module._SAFE_OPCODES, name
        assert opmap[name] not in safe_eval_module._EXPR_OPCODES, name
        assert opmap[name] not in safe_eval_module._CONST_OPCODES, name


@pytest.mark.parametrize('name', [
    # cells and closures, context managers, async, yield from, pattern
    # matching, exception groups: new powers, never whitelisted
    'MAKE_CELL', 'COPY_FREE_VARS', 'DELETE_DEREF', 'WITH_EXCEPT_START',
    'BEFORE_ASYNC_WITH', 'GET_AWAITABLE', 'GET_AITER', 'GET_ANEXT', 'SEND',
    'GET_YIELD_FROM_ITER', 'MATCH_CLASS', 'MATCH_MAPPING', 'MATCH_SEQUENCE',
    'MATCH_KEYS', 'CHECK_EG_MATCH', 'PREP_RERAISE_STAR', 'LOAD_CLASSDEREF',
    'IMPORT_NAME', 'STORE_ATTR', 'STORE_GLOBAL',
])
def test_new_power_opcodes_are_not_whitelisted(name):
    assert opmap[name] not in safe_eval_module._SAFE_OPCODES


def test_patch_adds_exactly_the_listed_opcodes():
    pristine = _pristine_safe_eval()
    const = _codes(compat.CONST_OPCODES_311)
    expr = const | _codes(compat.EXPR_OPCODES_311)
    safe = expr | _codes(compat.SAFE_OPCODES_311)
    assert safe_eval_module._CONST_OPCODES == pristine._CONST_OPCODES | const
    assert safe_eval_module._EXPR_OPCODES == pristine._EXPR_OPCODES | expr
    assert safe_eval_module._SAFE_OPCODES == pristine._SAFE_OPCODES | safe
    # the three levels stay nested
    assert safe_eval_module._CONST_OPCODES <= safe_eval_module._EXPR_OPCODES <= safe_eval_module._SAFE_OPCODES


def test_unpatched_safe_eval_fails_on_311():
    """Proves these tests exercise the patch: without it, a plain domain fails."""
    pristine = _pristine_safe_eval()
    with pytest.raises(ValueError, match='forbidden opcode.*RESUME'):
        pristine.safe_eval("[('id', '=', 1)]")
    assert safe_eval("[('id', '=', 1)]") == [('id', '=', 1)]
