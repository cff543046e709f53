"""Standard-library names Odoo 11.0 uses that CPython 3.11 no longer has."""
import base64
import collections
import collections.abc
import inspect
import threading

# Removed from ``collections`` in 3.10; Odoo imports them from there
# (odoo.models, odoo.tools.misc, qweb, osv.expression ...).
_ABC_NAMES = (
    'Awaitable', 'Coroutine', 'AsyncIterable', 'AsyncIterator', 'AsyncGenerator',
    'Hashable', 'Iterable', 'Iterator', 'Generator', 'Reversible', 'Sized',
    'Container', 'Callable', 'Collection', 'Set', 'MutableSet', 'Mapping',
    'MutableMapping', 'MappingView', 'KeysView', 'ItemsView', 'ValuesView',
    'Sequence', 'MutableSequence', 'ByteString',
)

ArgSpec = collections.namedtuple('ArgSpec', 'args varargs keywords defaults')


def getargspec(func):
    """``inspect.getargspec`` as it was before 3.11 (callers read ``.args``)."""
    spec = inspect.getfullargspec(func)
    if spec.kwonlyargs or spec.annotations:
        raise ValueError("Function has keyword-only parameters or annotations, "
                         "use inspect.signature() API which can support them")
    return ArgSpec(spec.args, spec.varargs, spec.varkw, spec.defaults)


def formatargspec(args, varargs=None, varkw=None, defaults=None,
                  kwonlyargs=(), kwonlydefaults=None, annotations=None,
                  formatarg=str,
                  formatvarargs=lambda name: '*' + name,
                  formatvarkw=lambda name: '**' + name,
                  formatvalue=lambda value: '=' + repr(value),
                  formatreturns=lambda text: ' -> ' + text,
                  formatannotation=None):
    """``inspect.formatargspec`` (removed in 3.11).

    ``odoo.tools.cache`` builds the source of its cache-key lambdas with it,
    e.g. ``(self, model, mode='read')``, so the output must be identical to
    the original: positional args, defaults aligned to the last args,
    ``*varargs``, keyword-only args (bare ``*`` when there is no varargs) and
    ``**varkw``, in that order, wrapped in parentheses.
    """
    annotations = annotations or {}

    def with_annotation(name):
        text = formatarg(name)
        if name in annotations:
            text += ': ' + _annotation_text(annotations[name], formatannotation)
        return text

    specs = []
    first_default = len(args) - len(defaults) if defaults else len(args)
    for index, name in enumerate(args):
        spec = with_annotation(name)
        if defaults and index >= first_default:
            spec += formatvalue(defaults[index - first_default])
        specs.append(spec)
    if varargs is not None:
        specs.append(formatvarargs(with_annotation(varargs)))
    elif kwonlyargs:
        specs.append('*')
    for name in kwonlyargs or ():
        spec = with_annotation(name)
        if kwonlydefaults and name in kwonlydefaults:
            spec += formatvalue(kwonlydefaults[name])
        specs.append(spec)
    if varkw is not None:
        specs.append(formatvarkw(with_annotation(varkw)))
    result = '(' + ', '.join(specs) + ')'
    if 'return' in annotations:
        result += formatreturns(_annotation_text(annotations['return'], formatannotation))
    return result


def _annotation_text(annotation, formatannotation):
    if formatannotation is not None:
        return formatannotation(annotation)
    return inspect.formatannotation(annotation)


def patch():
    for name in _ABC_NAMES:
        if not hasattr(collections, name) and hasattr(collections.abc, name):
            setattr(collections, name, getattr(collections.abc, name))
    if not hasattr(inspect, 'getargspec'):
        inspect.getargspec = getargspec
        inspect.ArgSpec = ArgSpec
    if not hasattr(inspect, 'formatargspec'):
        inspect.formatargspec = formatargspec
    # Removed in 3.9; used for menu icons at install, reports, language export.
    if not hasattr(base64, 'encodestring'):
        base64.encodestring = base64.encodebytes
        base64.decodestring = base64.decodebytes
    # Removed in 3.9; odoo.service.server waits on cron threads with it.
    if not hasattr(threading.Thread, 'isAlive'):
        threading.Thread.isAlive = threading.Thread.is_alive
