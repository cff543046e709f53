"""Fixtures shared by the whole test suite: Odoo databases and servers.

dev/test creates the template database (the addon installed, never opened
by tests) before pytest starts; system tests clone it for each server they
start, so they never see each other's data nor pytest-odoo's.
"""
import itertools
import os
import xmlrpc.client

import pytest

from devenv import odoo as odoo_env
from devenv import test_databases

_clone_numbers = itertools.count(1)


class OdooRpc:
    """XML-RPC as an external client would speak it: real logins, real access rules."""

    def __init__(self, url, db, login, password):
        self.url, self.db, self.login, self.password = url, db, login, password
        common = xmlrpc.client.ServerProxy('%s/xmlrpc/2/common' % url, allow_none=True)
        self.uid = common.authenticate(db, login, password, {})
        if not self.uid:
            raise PermissionError('login %s refused' % login)
        self._object = xmlrpc.client.ServerProxy('%s/xmlrpc/2/object' % url, allow_none=True)

    def __call__(self, model, method, *args, **kwargs):
        return self._object.execute_kw(self.db, self.uid, self.password, model, method,
                                       list(args), kwargs)

    def as_user(self, login, password):
        return OdooRpc(self.url, self.db, login, password)


@pytest.fixture(scope='session')
def odoo_config():
    if not odoo_env.database_exists(test_databases.TEMPLATE_DB):
        pytest.fail('The template database is missing: run the tests with dev/test.')
    return test_databases.CONFIG_PATH


@pytest.fixture(scope='session')
def clone_db(odoo_config):
    """Returns a function making a fresh copy of the template database."""
    made = []

    def clone():
        name = '%s_sys_%s_%d' % (test_databases.PREFIX, os.getpid(), next(_clone_numbers))
        odoo_env.clone_database(test_databases.TEMPLATE_DB, name, test_databases.DATA_DIR)
        made.append(name)
        return name

    yield clone
    for name in made:
        odoo_env.drop_database(name, test_databases.DATA_DIR)


@pytest.fixture(scope='session')
def odoo_server(odoo_config, clone_db):
    """A threaded Odoo server on its own database, shared by the system tests.

    Without cron threads: the tests decide when a mailbox syncs (a scheduled
    sync holding a mailbox would make their own sync find it busy).
    """
    server = odoo_env.OdooServer(odoo_config, clone_db(), extra_args=['--max-cron-threads=0'])
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def admin_rpc(odoo_server):
    return OdooRpc(odoo_server.url, odoo_server.db_name, 'admin', 'admin')


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the test item (browser tests screenshot failures)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, 'rep_' + report.when, report)
