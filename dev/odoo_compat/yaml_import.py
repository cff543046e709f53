"""``yaml.load`` needs an explicit Loader since PyYAML 6.

Odoo 11.0 still loads some demo data from YAML files (``yaml.load(text)``)
with its own tags (``!record``, ``!python`` ...), registered on PyYAML's
default loaders. Those files ship with Odoo's addons, so the full
``yaml.Loader`` that knows the tags is the right one for them.
"""
import types

import yaml


def _load(stream, Loader=yaml.Loader):
    return yaml.load(stream, Loader=Loader)


def patch(module):
    shim = types.ModuleType('yaml')
    shim.__dict__.update(vars(yaml))
    shim.load = _load
    module.yaml = shim
