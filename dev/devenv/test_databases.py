"""Fresh Odoo databases for one test run (called by dev/test before pytest).

* ``ecs_test_template``: the addon installed, never opened by the tests;
  system tests clone it for the servers they start.
* ``ecs_test_unit``: a clone for pytest-odoo's in-process tests.
"""
import os
import sys
import time

from . import odoo, paths

TEST_DIR = os.path.join(paths.RUN_DIR, 'test')
DATA_DIR = os.path.join(TEST_DIR, 'data')
CONFIG_PATH = os.path.join(TEST_DIR, 'odoo.conf')
# Two checkouts on one PostgreSQL test side by side with prefixes of their own.
PREFIX = os.environ.get('ECS_TEST_DB_PREFIX', 'ecs_test')
TEMPLATE_DB = PREFIX + '_template'
UNIT_DB = PREFIX + '_unit'


def prepare():
    started = time.monotonic()
    os.makedirs(TEST_DIR, exist_ok=True)
    odoo.write_config(CONFIG_PATH, DATA_DIR, db_name=UNIT_DB, log_level='warn')
    for name in (UNIT_DB, TEMPLATE_DB):
        odoo.drop_database(name, DATA_DIR)
    log_path = os.path.join(TEST_DIR, 'install.log')
    if os.path.exists(log_path):
        os.unlink(log_path)
    odoo.install_database(CONFIG_PATH, TEMPLATE_DB, log_path=log_path)
    odoo.clone_database(TEMPLATE_DB, UNIT_DB, DATA_DIR)
    print('[test] fresh databases %s and %s in %.0fs'
          % (TEMPLATE_DB, UNIT_DB, time.monotonic() - started), file=sys.stderr)


if __name__ == '__main__':
    prepare()
