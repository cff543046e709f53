"""The curated addons directory of dev/odoo_compat/addons_path.py.

A directory holding a ``.curated-odoo-addons`` marker on the addons path
replaces ``site-packages/odoo/addons`` (which holds every addon the wheels
ship, many uninstallable) in ``odoo.modules.module.ad_paths``.

Odoo's configuration and ``ad_paths`` are process-global and only ever grow,
so each scenario runs in a fresh interpreter of the project's virtualenv and
reports back as JSON; the pytest process itself is left untouched.
"""
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / '.venv' / 'bin' / 'python'
CURATED = ROOT / '.venv' / 'odoo-addons'
MARKER = '.curated-odoo-addons'

pytestmark = pytest.mark.skipif(
    not (VENV_PYTHON.exists() and (CURATED / MARKER).is_file()),
    reason='needs the virtualenv and its curated addons directory (dev/setup)')

PROBE = textwrap.dedent('''\
    import json, os, sys
    import odoo
    from odoo.modules import module

    odoo.tools.config.parse_config(sys.argv[1:])
    module.initialize_sys_path()
    module.initialize_sys_path()  # idempotent, as Odoo calls it again and again
    names = sys.stdin.read().split()
    print(json.dumps({
        'builtin': os.path.join(os.path.dirname(odoo.__file__), 'addons'),
        'ad_paths': module.ad_paths,
        'modules': sorted(module.get_modules()),
        'paths': {name: module.get_module_path(name, display_warning=False) for name in names},
        'patched': module.initialize_sys_path.__module__,
    }))
''')


def probe(tmp_path, addons_path, names=()):
    """Configure Odoo with ``addons_path`` in a fresh interpreter."""
    home = tmp_path / 'home'
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home))
    for variable in ('ODOO_RC', 'OPENERP_SERVER'):
        env.pop(variable, None)
    result = subprocess.run(
        [str(VENV_PYTHON), '-c', PROBE,
         '--addons-path=' + ','.join(str(path) for path in addons_path),
         '--data-dir=' + str(tmp_path / 'data')],
        input=' '.join(names), capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report['real_ad_paths'] = [os.path.realpath(path) for path in report['ad_paths']]
    report['real_builtin'] = os.path.realpath(report['builtin'])
    return report


def make_addon(directory, name):
    addon = directory / name
    addon.mkdir(parents=True)
    (addon / '__init__.py').write_text('')
    (addon / '__manifest__.py').write_text(repr({'name': name, 'depends': ['base']}))
    return addon


def test_curated_directory_replaces_odoo_addons(tmp_path):
    report = probe(tmp_path, [CURATED], ['crm', 'mail', 'base', 'website_crm', 'sale_crm'])
    assert report['patched'] == 'odoo_compat.addons_path'
    assert report['real_builtin'] not in report['real_ad_paths']
    assert not any(path.endswith(os.path.join('site-packages', 'odoo', 'addons'))
                   for path in report['ad_paths'])
    assert str(CURATED) in report['ad_paths']

    modules = set(report['modules'])
    assert {'base', 'web', 'mail', 'bus', 'crm', 'calendar', 'contacts'} <= modules
    assert not {'website_crm', 'sale_crm', 'website', 'sale', 'hr'} & modules
    # exactly the curated links, nothing else
    curated = {entry.name for entry in CURATED.iterdir() if not entry.name.startswith('.')}
    assert modules == curated

    paths = report['paths']
    assert paths['crm'] == str(CURATED / 'crm')
    assert os.path.realpath(paths['crm']) == os.path.join(report['real_builtin'], 'crm')
    assert (Path(paths['crm']) / '__manifest__.py').is_file()
    assert paths['base'] == str(CURATED / 'base')
    assert paths['mail'] == str(CURATED / 'mail')
    assert paths['website_crm'] is False
    assert paths['sale_crm'] is False


def test_without_curated_directory_odoo_addons_stays(tmp_path):
    """Control: the same configuration without the marker keeps Odoo's own
    addons directory, and the uninstallable addons with it."""
    plain = tmp_path / 'plain'
    make_addon(plain, 'my_addon')
    report = probe(tmp_path, [plain], ['crm', 'website_crm', 'my_addon'])
    assert report['real_builtin'] in report['real_ad_paths']
    assert {'crm', 'website_crm', 'sale_crm', 'my_addon'} <= set(report['modules'])
    assert report['paths']['website_crm'] == os.path.join(report['builtin'], 'website_crm')
    assert report['paths']['my_addon'] == str(plain / 'my_addon')


def test_curated_directory_next_to_project_addons(tmp_path):
    """A project's own addons directory plus a curated one (built here, with
    the marker): both are kept, Odoo's own directory is dropped."""
    project = tmp_path / 'project'
    make_addon(project, 'my_addon')
    curated = tmp_path / 'curated'
    curated.mkdir()
    (curated / MARKER).write_text('built by the test\n')
    for name in ('base', 'web'):
        (curated / name).symlink_to(CURATED / name)
    report = probe(tmp_path, [project, curated], ['my_addon', 'base', 'crm'])
    assert report['real_builtin'] not in report['real_ad_paths']
    assert str(project) in report['ad_paths'] and str(curated) in report['ad_paths']
    assert set(report['modules']) == {'my_addon', 'base', 'web'}
    assert report['paths'] == {
        'my_addon': str(project / 'my_addon'),
        'base': str(curated / 'base'),
        'crm': False,
    }


def test_marker_must_be_a_file(tmp_path):
    project = tmp_path / 'project'
    make_addon(project, 'my_addon')
    (project / MARKER).mkdir()
    report = probe(tmp_path, [project], ['crm'])
    assert report['real_builtin'] in report['real_ad_paths']
    assert report['paths']['crm'] == os.path.join(report['builtin'], 'crm')

