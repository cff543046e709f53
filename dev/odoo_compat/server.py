"""``resource.setrlimit`` refuses float limits since CPython 3.10.

Odoo 11.0's prefork workers (``--workers``) set their CPU-time limit to
"CPU time used so far + limit_time_cpu", a float from ``getrusage``, and die
with a TypeError before serving any request. The ``resource`` module that
``odoo.service.server`` sees is given a ``setrlimit`` that rounds up.
"""
import math
import resource
import types


def _setrlimit(which, limits):
    soft, hard = limits
    return resource.setrlimit(which, tuple(
        int(math.ceil(value)) if isinstance(value, float) else value for value in (soft, hard)))


def patch(module):
    shim = types.ModuleType('resource')
    shim.__dict__.update(vars(resource))
    shim.setrlimit = _setrlimit
    module.resource = shim
