"""Compatibility layer that lets Odoo 11.0 run on CPython 3.11.

Odoo 11.0 was written for Python 3.5/3.6. A handful of standard-library names
it uses are gone in 3.11, its sandbox (``safe_eval``) only knows 3.6 bytecode,
and its QWeb compiler builds ASTs the 3.6 way. This package mends each of those
at import time, without editing Odoo's installed files:

* ``stdlib``      -- restores removed stdlib names (collections ABC aliases,
                     ``inspect.getargspec``/``formatargspec``, ``base64``
                     ``encodestring``/``decodestring``, ``Thread.isAlive``).
* ``safe_eval``   -- teaches the sandbox the 3.11 counterparts of opcodes it
                     already allowed (see the module for the details).
* ``qweb``        -- makes the QWeb AST valid for the 3.11 compiler.
* ``web_controllers`` -- ``getchildren()`` for the web client's template bundle.
* ``server``      -- lets prefork workers set float CPU-time limits.
* ``yaml_import`` -- gives ``yaml.load`` the Loader PyYAML 6 requires.
* ``addons_path`` -- lets a curated addons directory replace the one inside
                     the ``odoo`` package (so uninstallable addons shipped in
                     the same wheels are never seen).
* ``hook``        -- applies the Odoo patches right after the patched module
                     is first imported, so importing this package stays cheap.

It is activated by a ``.pth`` file in the virtual environment (see
``dev/setup``), i.e. before any Odoo code runs in that interpreter.
"""

_installed = False


def install():
    """Apply the stdlib shims now and register the Odoo post-import patches."""
    global _installed
    if _installed:
        return
    _installed = True
    from . import stdlib, hook, safe_eval, qweb, addons_path, yaml_import, server, web_controllers
    stdlib.patch()
    hook.register('odoo.tools.safe_eval', safe_eval.patch)
    hook.register('odoo.addons.base.ir.ir_qweb.qweb', qweb.patch)
    hook.register('odoo.modules.module', addons_path.patch)
    hook.register('odoo.tools.yaml_import', yaml_import.patch)
    hook.register('odoo.service.server', server.patch)
    hook.register('odoo.addons.web.controllers.main', web_controllers.patch)
    hook.install()
