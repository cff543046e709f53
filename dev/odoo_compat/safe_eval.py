"""Teach ``odoo.tools.safe_eval`` the opcodes CPython 3.11 compiles to.

safe_eval is a security boundary: it compiles an expression and refuses it if
any opcode is outside a whitelist. CPython 3.11 compiles the same source to
new opcodes (``RESUME`` at the start of every code object, ``BINARY_OP``
instead of the ``BINARY_*``/``INPLACE_*`` family, ``PRECALL``/``CALL``
instead of ``CALL_FUNCTION``, ...), so every domain and context fails.

Each opcode added below is the 3.11 form of something Odoo 11.0 already
allowed on 3.6. A few constructs 3.6 compiled to opcodes Odoo did not list
now pass because 3.11 shares one opcode between them and an allowed
construct: f-strings, ``f(*a, **kw)`` with extra arguments, ``[*a, 1]``;
none of them reaches a name, attribute or module the sandbox could not
reach before. Imports (``IMPORT_*``), attribute and global writes
(``STORE_ATTR``, ``DELETE_ATTR``, ``STORE_GLOBAL``), closures
(``LOAD_CLOSURE``/``*_DEREF``), ``with`` blocks and class creation stay
forbidden, and the dunder-name check (``__import__``, ``__class__`` ...) is
untouched.
"""
from opcode import opmap

# Literals: 3.11 builds list/set literals of constants with an extend/update
# of a constant tuple/frozenset, uses COPY/SWAP where 3.6 used DUP_TOP/ROT_*,
# and starts every code object with RESUME (with CACHE slots after some ops).
CONST_OPCODES_311 = (
    'RESUME', 'CACHE', 'NOP', 'COPY', 'SWAP',
    'LIST_EXTEND', 'LIST_TO_TUPLE', 'SET_UPDATE',
)

# Operators: one BINARY_OP for every BINARY_x/INPLACE_x; `is`/`in` left
# COMPARE_OP for opcodes of their own.
EXPR_OPCODES_311 = (
    'BINARY_OP', 'IS_OP', 'CONTAINS_OP',
)

# Calls, jumps, loops, comprehensions, generator expressions, try/except,
# f-strings, assert: what 3.6 spelled CALL_FUNCTION*, POP_JUMP_IF_*,
# JUMP_ABSOLUTE, SETUP_EXCEPT/END_FINALLY, FORMAT_VALUE/BUILD_STRING,
# LOAD_GLOBAL AssertionError.
SAFE_OPCODES_311 = (
    'PUSH_NULL', 'PRECALL', 'CALL', 'KW_NAMES', 'DICT_MERGE',
    'POP_JUMP_FORWARD_IF_FALSE', 'POP_JUMP_FORWARD_IF_TRUE',
    'POP_JUMP_FORWARD_IF_NONE', 'POP_JUMP_FORWARD_IF_NOT_NONE',
    'POP_JUMP_BACKWARD_IF_FALSE', 'POP_JUMP_BACKWARD_IF_TRUE',
    'POP_JUMP_BACKWARD_IF_NONE', 'POP_JUMP_BACKWARD_IF_NOT_NONE',
    'JUMP_BACKWARD', 'JUMP_BACKWARD_NO_INTERRUPT',
    'RETURN_GENERATOR',
    'PUSH_EXC_INFO', 'CHECK_EXC_MATCH', 'RERAISE',
    'FORMAT_VALUE', 'BUILD_STRING',
    'LOAD_ASSERTION_ERROR',
)

# Never to be added, whatever the Python version: they would let sandboxed
# code import modules, write attributes or globals, or reach frames.
FORBIDDEN_OPCODES = (
    'IMPORT_NAME', 'IMPORT_FROM', 'IMPORT_STAR', 'STORE_ATTR', 'DELETE_ATTR',
    'STORE_GLOBAL', 'DELETE_GLOBAL', 'LOAD_CLOSURE', 'LOAD_DEREF',
    'STORE_DEREF', 'LOAD_CLASSDEREF', 'LOAD_BUILD_CLASS', 'BEFORE_WITH',
    'SETUP_ANNOTATIONS', 'PRINT_EXPR',
)


def _codes(names):
    return {opmap[name] for name in names if name in opmap}


def patch(module):
    const = _codes(CONST_OPCODES_311)
    expr = const | _codes(EXPR_OPCODES_311)
    safe = expr | _codes(SAFE_OPCODES_311)
    assert not safe & _codes(FORBIDDEN_OPCODES)
    # The three sets are module globals read at call time: extend in place.
    module._CONST_OPCODES.update(const)
    module._EXPR_OPCODES.update(expr)
    module._SAFE_OPCODES.update(safe)
