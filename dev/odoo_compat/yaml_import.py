"""``yaml.load`` needs an explicit Loader since PyYAML 6.

Odoo 11.0 still loads some demo data from YAML files (``yaml.load(text)``)
with its own tags (``!record``, ``!python`` ...), registered on PyYAML's
default loaders. Those files ship with Odoo's addons, so the full
``yaml.Loader`` that knows the tags is the right one for them.

PyYAML is imported only when the patch applies: this package is loaded in
every interpreter of the virtualenv, even before PyYAML is installed.
"""
import types


def patch(module):
    import yaml

    def load(stream, Loader=yaml.Loader):
        return yaml.load(stream, Loader=Loader)

    shim = types.ModuleType('yaml')
    shim.__dict__.update(vars(yaml))
    shim.load = load
    module.yaml = shim
