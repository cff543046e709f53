"""Make the ASTs built by Odoo 11.0's QWeb compiler valid on CPython 3.11.

QWeb turns each template into a Python module AST and compiles it. It builds
that AST the way Python 3.5 expected:

* ``ast.arguments`` without ``posonlyargs`` (required since 3.8);
* ``ast.Name(id='None'|'True'|'False')`` where 3.8+ wants ``ast.Constant``;
* line numbers copied from template source lines onto some nodes while
  ``ast.fix_missing_locations`` gives others their parent's, so a node may
  end before it starts, which 3.11's compiler rejects.

The module's ``arguments`` factory is replaced, and the ``compile`` it calls
is given a wrapper that mends the other two on the AST before compiling.
"""
import ast
import builtins

_CONSTANT_NAMES = {'None': None, 'True': True, 'False': False}


def arguments(args, vararg, kwonlyargs, kw_defaults, kwarg, defaults, posonlyargs=()):
    return ast.arguments(posonlyargs=list(posonlyargs), args=args, vararg=vararg,
                         kwonlyargs=kwonlyargs, kw_defaults=kw_defaults,
                         kwarg=kwarg, defaults=defaults)


class _ConstantNames(ast.NodeTransformer):
    def visit_Name(self, node):
        if node.id in _CONSTANT_NAMES and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Constant(value=_CONSTANT_NAMES[node.id]), node)
        return node


def _mend_positions(tree):
    for node in ast.walk(tree):
        if not hasattr(node, 'lineno'):
            continue
        node.col_offset = getattr(node, 'col_offset', 0) or 0
        end_lineno = getattr(node, 'end_lineno', None)
        if end_lineno is None or end_lineno < node.lineno:
            node.end_lineno = node.lineno
        end_col = getattr(node, 'end_col_offset', None)
        if end_col is None or (node.end_lineno == node.lineno and end_col < node.col_offset):
            node.end_col_offset = node.col_offset


def mend_ast(tree):
    tree = _ConstantNames().visit(tree)
    ast.fix_missing_locations(tree)
    _mend_positions(tree)
    return tree


def compile(source, filename, mode, *args, **kwargs):
    if isinstance(source, ast.AST):
        source = mend_ast(source)
    return builtins.compile(source, filename, mode, *args, **kwargs)


def patch(module):
    module.arguments = arguments
    # Shadows the builtin for that module only.
    module.compile = compile
