"""Build the curated Odoo addons directory (see odoo_compat/addons_path.py).

Usage: python curate_addons.py TARGET_DIR ROOT_ADDON [ROOT_ADDON ...]

TARGET_DIR receives one symlink per addon needed: the roots, their
dependencies, and the auto-install addons whose dependencies are all in the
set (as Odoo would install them). Everything else shipped in the odoo
package stays invisible to Odoo.
"""
import ast
import os
import sys

import odoo

MARKER = '.curated-odoo-addons'


def read_manifests(addons_dir):
    manifests = {}
    for name in sorted(os.listdir(addons_dir)):
        path = os.path.join(addons_dir, name, '__manifest__.py')
        if os.path.isfile(path):
            with open(path, 'rb') as handle:
                manifest = ast.literal_eval(handle.read().decode('utf-8'))
            if manifest.get('installable', True):
                manifests[name] = manifest
    return manifests


def closure(manifests, roots):
    wanted = {'base', 'web'}
    pending = list(roots) + ['base', 'web']
    while pending:
        name = pending.pop()
        if name not in manifests:
            raise SystemExit('addon %r is needed but not installed' % name)
        wanted.add(name)
        pending.extend(dep for dep in manifests[name].get('depends', []) if dep not in wanted)
    grown = True
    while grown:
        grown = False
        for name, manifest in manifests.items():
            auto = manifest.get('auto_install')
            deps = manifest.get('depends', [])
            if name not in wanted and auto and deps and set(deps) <= wanted:
                wanted.add(name)
                grown = True
    return wanted


def build(target, roots):
    addons_dir = os.path.join(os.path.dirname(odoo.__file__), 'addons')
    wanted = closure(read_manifests(addons_dir), roots)
    os.makedirs(target, exist_ok=True)
    for entry in os.listdir(target):
        if os.path.islink(os.path.join(target, entry)) and entry not in wanted:
            os.unlink(os.path.join(target, entry))
    for name in sorted(wanted):
        link = os.path.join(target, name)
        if not os.path.islink(link):
            os.symlink(os.path.join(addons_dir, name), link)
    with open(os.path.join(target, MARKER), 'w') as handle:
        handle.write('\n'.join(sorted(wanted)) + '\n')
    return wanted


if __name__ == '__main__':
    names = build(sys.argv[1], sys.argv[2:])
    print('curated addons (%d): %s' % (len(names), ' '.join(sorted(names))))
