"""Odoo 11.0 for development and tests: config files, databases, servers.

Odoo always runs on the curated addons directory (only the Odoo addons we
use, see dev/curate_addons.py) plus the project root, which holds the addon.
"""
import configparser
import hashlib
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import psycopg2

from . import paths

DB_HOST = os.environ.get('ECS_DB_HOST', '127.0.0.1')
DB_PORT = int(os.environ.get('ECS_DB_PORT', '5432'))
DB_USER = os.environ.get('ECS_DB_USER', 'odoo')
ADDON = 'email_crm_sync'


def addons_path():
    return '%s,%s' % (paths.CURATED_ADDONS_DIR, paths.PROJECT_ROOT)


def write_config(path, data_dir, db_name=None, **options):
    """An odoo.conf for this project's services; ``options`` override defaults."""
    values = {
        'addons_path': addons_path(),
        'data_dir': data_dir,
        'db_host': DB_HOST,
        'db_port': str(DB_PORT),
        'db_user': DB_USER,
        'db_password': 'False',
        'http_interface': '127.0.0.1',
        'longpolling_port': str(paths.free_port()),
        'list_db': 'False',
        'without_demo': 'all',
        'log_level': 'info',
    }
    if db_name:
        values.update(db_name=db_name, dbfilter='^%s$' % db_name)
    values.update({key: str(value) for key, value in options.items()})
    parser = configparser.RawConfigParser()
    parser['options'] = values
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        parser.write(handle)
    return path


def odoo_env():
    env = dict(os.environ)
    env['PATH'] = paths.NODE_BIN_DIR + os.pathsep + env.get('PATH', '')
    # Odoo 11's first HTTP request imports every addon while the registry may
    # still be importing them in another thread; with Python 3's import
    # system that can leave an addon half-registered (models missing). Let
    # the registry alone import addons.
    env['ODOO_PRELOAD_ADDONS'] = 'no'
    env.pop('PYTHONPATH', None)
    return env


def odoo_command(config_path, *args):
    return [paths.VENV_PYTHON, paths.ODOO_BIN, '--config=%s' % config_path] + list(args)


def _admin_connection():
    conn = psycopg2.connect(host=DB_HOST, port=DB_PORT, user=DB_USER, dbname='postgres')
    conn.autocommit = True
    return conn


def database_exists(name):
    with _admin_connection() as conn, conn.cursor() as cr:
        cr.execute('SELECT 1 FROM pg_database WHERE datname = %s', (name,))
        return cr.fetchone() is not None


def drop_database(name, data_dir=None):
    conn = _admin_connection()
    try:
        with conn.cursor() as cr:
            cr.execute('SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                       'WHERE datname = %s AND pid <> pg_backend_pid()', (name,))
            cr.execute('DROP DATABASE IF EXISTS "%s"' % name)
    finally:
        conn.close()
    if data_dir:
        shutil.rmtree(os.path.join(data_dir, 'filestore', name), ignore_errors=True)


def install_database(config_path, name, modules=(ADDON,), demo=False, log_path=None):
    """A new database ``name`` with ``modules`` installed (Odoo's own installer)."""
    args = ['-i', ','.join(modules)] + (['--without-demo='] if demo else [])
    _run_stopping(config_path, name, args, log_path, 'installing')
    if not database_exists(name):
        raise RuntimeError('installing %s into database %s failed (see %s)'
                           % (','.join(modules), name, log_path or 'the log'))


def update_database(config_path, name, modules=(ADDON,), log_path=None):
    """Upgrade ``modules`` in an existing database (Odoo's ``-u``)."""
    _run_stopping(config_path, name, ['-u', ','.join(modules)], log_path, 'updating')


def _run_stopping(config_path, name, args, log_path, doing):
    """Run Odoo on database ``name`` with ``--stop-after-init``, its output to ``log_path``."""
    args = ['-d', name] + args + ['--stop-after-init', '--db-filter=^%s$' % name]
    log = open(log_path, 'ab') if log_path else subprocess.DEVNULL
    try:
        done = subprocess.run(odoo_command(config_path, *args), env=odoo_env(),
                              stdout=log, stderr=subprocess.STDOUT)
    finally:
        if log_path:
            log.close()
    if done.returncode != 0:
        raise RuntimeError('%s %s in database %s failed (see %s)'
                           % (doing, args[3], name, log_path or 'the log'))


def addon_fingerprint():
    """A hash of the addon's files: changes whenever its code or data does."""
    digest = hashlib.sha256()
    root = os.path.join(paths.PROJECT_ROOT, ADDON)
    for folder, dirs, files in sorted(os.walk(root)):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for name in sorted(files):
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, root).encode())
            with open(path, 'rb') as handle:
                digest.update(handle.read())
    return digest.hexdigest()


def clone_database(template, name, data_dir):
    """Copy a database and its filestore (attachments live in both)."""
    drop_database(name, data_dir)
    conn = _admin_connection()
    try:
        with conn.cursor() as cr:
            cr.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (name, template))
    finally:
        conn.close()
    source = os.path.join(data_dir, 'filestore', template)
    if os.path.isdir(source):
        shutil.copytree(source, os.path.join(data_dir, 'filestore', name))


class OdooServer:
    """An Odoo HTTP server in its own process, on 127.0.0.1 and a port of its own."""

    def __init__(self, config_path, db_name, http_port=None, workers=0, log_path=None,
                 extra_args=()):
        self.config_path = config_path
        self.db_name = db_name
        self.http_port = http_port or paths.free_port()
        self.workers = workers
        self.log_path = log_path or os.path.join(os.path.dirname(config_path), 'odoo-%s.log' % self.http_port)
        self.extra_args = list(extra_args)
        self.process = None

    @property
    def url(self):
        return 'http://127.0.0.1:%s' % self.http_port

    def start(self, timeout=120):
        args = ['-d', self.db_name, '--db-filter=^%s$' % self.db_name,
                '--http-port=%s' % self.http_port, '--workers=%s' % self.workers,
                '--logfile=%s' % self.log_path] + self.extra_args
        if self.workers:
            args.append('--longpolling-port=%s' % paths.free_port())
        self.process = subprocess.Popen(odoo_command(self.config_path, *args), env=odoo_env(),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        self._wait_until_serving(timeout)
        return self

    def _wait_until_serving(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('Odoo exited with code %s (see %s)'
                                   % (self.process.returncode, self.log_path))
            try:
                with urllib.request.urlopen(self.url + '/web/login', timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise TimeoutError('Odoo did not serve /web/login within %ss (see %s)' % (timeout, self.log_path))

    def stop(self, timeout=30):
        if not self.process or self.process.poll() is not None:
            return
        # The whole process group: prefork workers, the longpolling process.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers of the group
        except ProcessLookupError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
