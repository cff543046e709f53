"""Standard-library names restored by dev/odoo_compat/stdlib.py, and the Odoo
code built on them (odoo.tools.cache generates its cache-key lambdas from
``inspect.formatargspec(*inspect.getargspec(method))``).

The expected strings below are what CPython 3.10's own ``inspect`` printed
for the same arguments (3.6 prints the same, except for its different repr
of ``typing.Optional``); they are written out by hand.
"""
import base64
import collections
import collections.abc
import datetime
import inspect
import threading
import typing

import pytest

import odoo_compat.stdlib as compat
from odoo.tools.cache import ormcache, ormcache_context, ormcache_multi


# --------------------------------------------------------------------------
# inspect.getargspec / inspect.formatargspec
# --------------------------------------------------------------------------

def f_empty(): pass
def f_plain(a, b): pass
def f_method(self, model, mode='read'): pass
def f_defaults(a, b=None, c=(1, 'x'), d=-1.5, e=True): pass
def f_varargs(*args): pass
def f_varkw(**kwargs): pass
def f_all(a, b=1, *args, **kw): pass
def f_strings(a="it's", b='say "hi"', c=[], d={'k': (1, 2)}, e=b'raw', f='caf\u00e9'): pass
def f_old_api(self, cr, uid, ids, context=None): pass
def f_rest(x, *rest): pass
def f_opts(x, **opts): pass
f_lambda = lambda x, y=2: x


class Klass:
    def method(self, x, y=()): pass


SHORT_FORM = [
    (f_empty, '()'),
    (f_plain, '(a, b)'),
    (f_method, "(self, model, mode='read')"),
    (f_defaults, "(a, b=None, c=(1, 'x'), d=-1.5, e=True)"),
    (f_varargs, '(*args)'),
    (f_varkw, '(**kwargs)'),
    (f_all, '(a, b=1, *args, **kw)'),
    (f_strings, """(a="it's", b='say "hi"', c=[], d={'k': (1, 2)}, e=b'raw', f='caf\u00e9')"""),
    (f_old_api, '(self, cr, uid, ids, context=None)'),
    (f_rest, '(x, *rest)'),
    (f_opts, '(x, **opts)'),
    (f_lambda, '(x, y=2)'),
    (Klass.method, '(self, x, y=())'),
    # like 3.10's, the shim does not drop ``self`` from a bound method
    (Klass().method, '(self, x, y=())'),
]


@pytest.mark.parametrize('func, expected', SHORT_FORM, ids=[case[1] for case in SHORT_FORM])
def test_formatargspec_of_getargspec(func, expected):
    assert inspect.formatargspec(*inspect.getargspec(func)) == expected


def k_combined(a, b=1, *args, c, d=2, **kw): pass
def k_bare_star(a, *, b='x'): pass
def k_only(*, only): pass
def n_simple(a: int, b: str = 5) -> bool: pass
def n_star(*args: int, **kw: 'str'): pass
def n_typing(x: typing.List[int], y: typing.Optional[datetime.date] = None) -> typing.Dict[str, int]: pass
def n_kwonly(x: datetime.date, *, y: 'Klass' = None) -> None: pass


LONG_FORM = [
    (k_combined, '(a, b=1, *args, c, d=2, **kw)'),
    (k_bare_star, "(a, *, b='x')"),
    (k_only, '(*, only)'),
    (n_simple, '(a: int, b: str=5) -> bool'),
    (n_star, "(*args: int, **kw: 'str')"),
    (n_typing, '(x: List[int], y: Optional[datetime.date]=None) -> Dict[str, int]'),
    (n_kwonly, "(x: datetime.date, *, y: 'Klass'=None) -> None"),
]


@pytest.mark.parametrize('func, expected', LONG_FORM, ids=[case[1] for case in LONG_FORM])
def test_formatargspec_long_form(func, expected):
    spec = inspect.getfullargspec(func)
    assert inspect.formatargspec(spec.args, spec.varargs, spec.varkw, spec.defaults,
                                 spec.kwonlyargs, spec.kwonlydefaults, spec.annotations) == expected


@pytest.mark.parametrize('func', [case[0] for case in LONG_FORM],
                         ids=[case[0].__name__ for case in LONG_FORM])
def test_getargspec_refuses_kwonly_and_annotations(func):
    with pytest.raises(ValueError, match='keyword-only parameters or annotations'):
        inspect.getargspec(func)


@pytest.mark.parametrize('arguments, keywords, expected', [
    ((['a', 'b'], 'args', 'kw', (1,), ['c', 'd'], {'d': 2}, {}), {},
     '(a, b=1, *args, c, d=2, **kw)'),
    ((['a'], None, None, (), ['b'], None, {}), {}, '(a, *, b)'),
    ((('a', 'b'), None, None, [1, 2]), {}, '(a=1, b=2)'),
    (([], None, None, None), {}, '()'),
    ((['self', 'x'], None, None, (None,)), {}, '(self, x=None)'),
    # the custom formatters of the original signature
    ((['a', 'b'],), {'formatarg': str.upper, 'formatvalue': lambda v: ' = %s' % v, 'defaults': (3,)},
     '(A, B = 3)'),
    (([], 'a', 'k', None, [], None, {'return': int}),
     {'formatvarargs': lambda n: '*<%s>' % n, 'formatvarkw': lambda n: '**<%s>' % n,
      'formatreturns': lambda t: ' => ' + t},
     '(*<a>, **<k>) => int'),
    ((['x'], None, None, None, [], None, {'x': int, 'return': str}),
     {'formatannotation': lambda a: a.__name__.upper()}, '(x: INT) -> STR'),
])
def test_formatargspec_explicit_arguments(arguments, keywords, expected):
    assert inspect.formatargspec(*arguments, **keywords) == expected


def test_getargspec_result_fields():
    spec = inspect.getargspec(f_all)
    assert isinstance(spec, tuple)
    assert spec == (['a', 'b'], 'args', 'kw', (1,))
    assert spec.args == ['a', 'b']
    assert spec.varargs == 'args'
    assert spec.keywords == 'kw'
    assert spec.defaults == (1,)
    assert repr(spec) == "ArgSpec(args=['a', 'b'], varargs='args', keywords='kw', defaults=(1,))"
    plain = inspect.getargspec(f_plain)
    assert (plain.varargs, plain.keywords, plain.defaults) == (None, None, None)
    assert inspect.ArgSpec is compat.ArgSpec


def test_shims_are_the_compat_ones():
    # on 3.11 none of these exist natively: the .pth file must have installed them
    assert inspect.getargspec is compat.getargspec
    assert inspect.formatargspec is compat.formatargspec


# --------------------------------------------------------------------------
# collections, base64, threading
# --------------------------------------------------------------------------

@pytest.mark.parametrize('name', compat._ABC_NAMES)
def test_collections_abc_aliases(name):
    assert getattr(collections, name) is getattr(collections.abc, name)


def test_collections_aliases_behave():
    assert isinstance({}, collections.Mapping)
    assert isinstance({}, collections.MutableMapping)
    assert isinstance(set(), collections.MutableSet)
    assert isinstance(iter([]), collections.Iterator)
    assert isinstance([], collections.Iterable)
    assert not isinstance(3, collections.Iterable)
    assert issubclass(tuple, collections.Sequence)
    # odoo imports them by ``from collections import ...``
    from collections import Mapping, Sized  # noqa: F401


@pytest.mark.parametrize('data', [b'x', b'', b'\x00\xff' * 50, 'caf\u00e9'.encode('utf-8') * 40])
def test_base64_encodestring_roundtrip(data):
    encoded = base64.encodestring(data)
    assert encoded == base64.encodebytes(data)
    assert base64.decodestring(encoded) == data


def test_base64_encodestring_wraps_lines_like_before():
    encoded = base64.encodestring(b'a' * 100)
    lines = encoded.split(b'\n')
    assert len(lines[0]) == 76
    assert encoded.endswith(b'\n')
    assert base64.encodestring(b'x') == b'eA==\n'


def test_thread_is_alive_alias():
    assert threading.Thread.isAlive is threading.Thread.is_alive
    event = threading.Event()
    thread = threading.Thread(target=event.wait)
    assert thread.isAlive() is False
    thread.start()
    try:
        assert thread.isAlive() is True
    finally:
        event.set()
        thread.join()
    assert thread.isAlive() is False


def test_patch_is_idempotent_and_keeps_native_names():
    before = (inspect.getargspec, inspect.formatargspec, base64.encodestring,
              threading.Thread.isAlive, collections.Mapping, collections.OrderedDict)
    compat.patch()
    after = (inspect.getargspec, inspect.formatargspec, base64.encodestring,
             threading.Thread.isAlive, collections.Mapping, collections.OrderedDict)
    assert before == after


# --------------------------------------------------------------------------
# odoo.tools.cache, built on getargspec/formatargspec
# --------------------------------------------------------------------------

def _key_function(decorator, method):
    decorator.method = method
    decorator.determine_key()
    return decorator.key


def test_ormcache_key_from_argument_names():
    def f(a, b):
        return a + b
    key = _key_function(ormcache('b'), f)
    assert key(1, 2) == (2,)
    assert key(1, b=3) == (3,)
    assert key(a=1, b=4) == (4,)


def test_ormcache_key_keeps_defaults_and_expressions():
    def f(self, model, mode='read', raise_exception=True):
        pass
    key = _key_function(ormcache('model', 'mode', 'len(model)'), f)
    assert key('self', 'res.partner') == ('res.partner', 'read', 11)
    assert key('self', 'crm.lead', 'write') == ('crm.lead', 'write', 8)
    assert key('self', 'crm.lead', mode='unlink', raise_exception=False) == ('crm.lead', 'unlink', 8)


def test_ormcache_key_with_varargs_and_kwargs():
    def f(self, a, *args, **kwargs):
        pass
    key = _key_function(ormcache('a', 'args', 'sorted(kwargs.items())'), f)
    assert key('self', 1, 2, 3, z=1, y=2) == (1, (2, 3), [('y', 2), ('z', 1)])


def test_ormcache_key_without_arguments():
    def f(self, x):
        pass
    key = _key_function(ormcache(), f)
    assert key('self', 1) == ()


def test_ormcache_skiparg():
    def f(self, cr, uid, x):
        pass
    key = _key_function(ormcache(skiparg=2), f)
    assert key('self', 'cr', 'uid', 'x') == ('uid', 'x')


def test_ormcache_key_refuses_wrong_arguments_like_the_method():
    def f(a, b):
        pass
    key = _key_function(ormcache('b'), f)
    with pytest.raises(TypeError):
        key(1)
    with pytest.raises(TypeError):
        key(1, 2, 3)


def test_ormcache_context_key():
    def f(self, a, context=None):
        pass
    key = _key_function(ormcache_context('a', keys=('lang', 'tz')), f)
    assert key('self', 1, context={'lang': 'fr_FR'}) == (1, ('fr_FR', None))
    assert key('self', 2) == (2, (None, None))

    class Model:
        _context = {'lang': 'de_DE', 'tz': 'Europe/Berlin'}

    def g(self, a):
        pass
    key = _key_function(ormcache_context('a', keys=('lang', 'tz')), g)
    assert key(Model(), 3) == (3, ('de_DE', 'Europe/Berlin'))


def test_ormcache_multi_key():
    def f(self, ids, field):
        pass
    decorator = ormcache_multi('field', multi='ids')
    key = _key_function(decorator, f)
    assert key('self', [1, 2], 'name') == ('name',)
    assert decorator.multi_pos == 1


class _FakePool:
    def __init__(self):
        self.db_name = 'testdb'
        self.cache = {}
        self.cleared = 0

    def _clear_cache(self):
        self.cache.clear()
        self.cleared += 1


class _FakeModel:
    _name = 'fake.model'

    def __init__(self):
        self.pool = _FakePool()
        self.calls = []

    @ormcache('x')
    def compute(self, x, y=0):
        self.calls.append((x, y))
        return x + y


def test_ormcache_end_to_end():
    model = _FakeModel()
    assert model.compute(1, y=5) == 6
    assert model.compute(1, y=5) == 6
    # y is not part of the key: served from the cache
    assert model.compute(1, y=100) == 6
    assert model.compute(2) == 2
    assert model.calls == [(1, 5), (2, 0)]
    assert set(model.pool.cache) == {('fake.model', _FakeModel.compute.__wrapped__, 1),
                                     ('fake.model', _FakeModel.compute.__wrapped__, 2)}
    # the wrapper keeps the signature (odoo.api.guess relies on it)
    assert str(inspect.signature(_FakeModel.compute)) == '(self, x, y=0)'
    _FakeModel.compute.clear_cache(model)
    assert model.pool.cleared == 1
    assert model.compute(1) == 1
    assert model.calls[-1] == (1, 0)
    # unhashable key: computed, not cached
    assert model.compute([1], y=[2]) == [1, 2]
    assert model.compute([1], y=[2]) == [1, 2]
    assert model.calls[-2:] == [([1], [2]), ([1], [2])]
