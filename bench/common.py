"""Shared plumbing of the benchmarks: run directories, a private Dovecot,
databases, timed subprocesses (wall time and peak RSS), result files.

Nothing here is imported by the addon or the tests. Benchmarks only create
databases named ``ecs_bench_*`` and files under ``.run/bench/`` and
``bench/results/``.
"""
import datetime
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_ROOT = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, 'results')
RUN_ROOT = os.path.join(PROJECT_ROOT, '.run', 'bench')
ODOO_TASKS = os.path.join(BENCH_DIR, 'odoo_tasks.py')
TIME_BIN = '/usr/bin/time'

from devenv import odoo as odoo_env  # noqa: E402  (dev/ is on the venv's sys.path)
from devenv import paths  # noqa: E402
from devenv.dovecot import Dovecot  # noqa: E402

DB_PREFIX = 'ecs_bench_'


def say(text):
    print('[bench %s] %s' % (time.strftime('%H:%M:%S'), text), file=sys.stderr, flush=True)


# -- directories ----------------------------------------------------------------

def _traversable_by_others(path):
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def fresh_run_dir(name):
    """An empty directory for one benchmark's Dovecot, Odoo config and logs.

    Under .run/bench/ when every parent lets Dovecot's `mail` user through
    and the path is short enough for Dovecot's unix sockets; else a mkdtemp
    under /tmp (mode 0755)."""
    path = os.path.join(RUN_ROOT, name)
    parent_ok = _traversable_by_others(os.path.dirname(PROJECT_ROOT))
    if parent_ok and len(os.path.join(path, 'dovecot', 'run')) < 80:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        for p in (os.path.join(PROJECT_ROOT, '.run'), RUN_ROOT, path):
            os.chmod(p, os.stat(p).st_mode | 0o755)
        if _traversable_by_others(path):
            return path
    path = tempfile.mkdtemp(prefix='ecs-bench-%s-' % name, dir='/tmp')
    os.chmod(path, 0o755)
    return path


# -- Dovecot --------------------------------------------------------------------

def start_dovecot(run_dir, users):
    """A started private Dovecot (free ports) with {login: password} users."""
    dovecot = Dovecot(os.path.join(run_dir, 'dovecot'))
    for login, password in users.items():
        dovecot.add_user(login, password)
    dovecot.start()
    return dovecot


def fill(dovecot, credentials, messages, folder='INBOX', chunk=200):
    """MULTIAPPEND ``messages`` (dicts: msg, flags, date) into ``folder`` of
    every (login, password) in ``credentials``, ``chunk`` per command.
    Returns (count, bytes)."""
    clients = [dovecot.imap_client(login, password) for login, password in credentials]
    count = size = 0
    try:
        pending = []

        def flush():
            for client in clients:
                client.multiappend(folder, pending)
            pending.clear()

        for message in messages:
            pending.append(message)
            count += 1
            size += len(message['msg'])
            if len(pending) >= chunk:
                flush()
        if pending:
            flush()
    finally:
        for client in clients:
            try:
                client.logout()
            except Exception:
                pass
    return count, size


def folder_count(dovecot, login, password, folder='INBOX', criteria='ALL'):
    with dovecot.imap_client(login, password) as client:
        client.select_folder(folder, readonly=True)
        return len(client.search(criteria))


def dovecot_fingerprint(dovecot):
    sys.path.insert(0, PROJECT_ROOT)
    from email_crm_sync.lib.imap_session import certificate_fingerprint
    with open(dovecot.cert_path, encoding='ascii') as handle:
        return certificate_fingerprint(ssl.PEM_cert_to_DER_cert(handle.read()))


# -- Odoo databases -----------------------------------------------------------------

def addon_snapshot(run_dir, rev):
    """Export the addon as committed at ``rev`` (git archive, read-only on the
    repository) into run_dir/addon-src; returns an addons_path entry for it.
    Benchmarks then measure a fixed revision, not a working tree others are
    editing."""
    target = os.path.join(run_dir, 'addon-src')
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    archive = subprocess.run(['git', 'archive', '--format=tar', rev, 'email_crm_sync'],
                             cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', target], input=archive, check=True)
    commit = subprocess.run(['git', 'rev-parse', '--short', rev], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()
    return target, commit


def write_config(run_dir, log_level='warn', addon_rev=None, **options):
    """An odoo.conf in run_dir. With ``addon_rev``, Odoo loads the addon as
    committed at that revision instead of the working tree."""
    path = os.path.join(run_dir, 'odoo.conf')
    if addon_rev:
        source, commit = addon_snapshot(run_dir, addon_rev)
        options['addons_path'] = '%s,%s' % (paths.CURATED_ADDONS_DIR, source)
        say('benchmarking the addon as committed at %s (%s)' % (addon_rev, commit))
    odoo_env.write_config(path, os.path.join(run_dir, 'data'), log_level=log_level, **options)
    return path


def install(config_path, db_name, modules, log_path):
    assert db_name.startswith(DB_PREFIX)
    odoo_env.drop_database(db_name, data_dir_of(config_path))
    started = time.monotonic()
    odoo_env.install_database(config_path, db_name, modules=tuple(modules), log_path=log_path)
    return time.monotonic() - started


def clone(config_path, template, name):
    assert name.startswith(DB_PREFIX)
    odoo_env.clone_database(template, name, data_dir_of(config_path))


def drop(config_path, *names):
    for name in names:
        assert name.startswith(DB_PREFIX)
        odoo_env.drop_database(name, data_dir_of(config_path))


def data_dir_of(config_path):
    return os.path.join(os.path.dirname(config_path), 'data')


def sql(db_name, query, *params):
    import psycopg2
    conn = psycopg2.connect(host=odoo_env.DB_HOST, port=odoo_env.DB_PORT, user=odoo_env.DB_USER,
                            dbname=db_name)
    try:
        with conn, conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None
    finally:
        conn.close()


# -- timed subprocesses ----------------------------------------------------------------

class Timed:
    """What a measured child process did: wall seconds, peak RSS, output."""

    def __init__(self, returncode, wall, max_rss_kb, stdout, stderr):
        self.returncode, self.wall, self.max_rss_kb = returncode, wall, max_rss_kb
        self.stdout, self.stderr = stdout, stderr

    @property
    def max_rss_mb(self):
        return self.max_rss_kb / 1024.0 if self.max_rss_kb else None

    def json_lines(self):
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith('{'):
                out.append(json.loads(line))
        return out

    def check(self, what):
        if self.returncode != 0:
            raise RuntimeError('%s failed (rc=%s):\n%s' % (what, self.returncode, self.stderr[-4000:]))
        return self


def run_timed(command, env=None, timeout=3600, cwd=None):
    """Run ``command`` under /usr/bin/time -v (peak RSS of the child) and time it."""
    fd, time_out = tempfile.mkstemp(prefix='bench-time-', suffix='.txt')
    os.close(fd)
    full = ([TIME_BIN, '-v', '-o', time_out] if os.path.exists(TIME_BIN) else []) + list(command)
    started = time.monotonic()
    done = subprocess.run(full, env=env, cwd=cwd or PROJECT_ROOT, capture_output=True, text=True,
                          timeout=timeout)
    wall = time.monotonic() - started
    max_rss = None
    try:
        with open(time_out, encoding='utf-8', errors='replace') as handle:
            match = re.search(r'Maximum resident set size \(kbytes\): (\d+)', handle.read())
            if match:
                max_rss = int(match.group(1))
    finally:
        os.unlink(time_out)
    return Timed(done.returncode, wall, max_rss, done.stdout, done.stderr)


def odoo_task(config_path, db_name, task, *args, timeout=3600, timed=True):
    """Run a task of bench/odoo_tasks.py (Odoo loaded) in its own process;
    returns the Timed result (JSON lines on stdout)."""
    command = [paths.VENV_PYTHON, ODOO_TASKS, '--config', config_path, '--db', db_name, task] \
        + [str(a) for a in args]
    if timed:
        return run_timed(command, env=odoo_env.odoo_env(), timeout=timeout).check(task)
    done = subprocess.run(command, env=odoo_env.odoo_env(), cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=timeout)
    result = Timed(done.returncode, 0, None, done.stdout, done.stderr)
    return result.check(task)


def run_sync_command(config_path, db_name, mailbox_id, budget=3600, until_done=True):
    command = [paths.VENV_PYTHON, '-m', 'devenv.run_sync', '--config', config_path, '--db', db_name,
               '--mailbox', str(mailbox_id), '--budget', str(budget)]
    if until_done:
        command.append('--until-done')
    return command


# -- machine and results ------------------------------------------------------------------

def resolve_rev(rev):
    """A revision as a full commit hash (so a moving HEAD changes nothing mid-run)."""
    if not rev:
        return rev
    return subprocess.run(['git', 'rev-parse', '--verify', rev + '^{commit}'], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()


def addon_source(addon_rev):
    """What was measured: a commit, or the working tree (with its changes)."""
    if addon_rev:
        commit = subprocess.run(['git', 'rev-parse', '--short', addon_rev], cwd=PROJECT_ROOT,
                                capture_output=True, text=True).stdout.strip()
        return {'addon_rev': addon_rev, 'commit': commit}
    status = subprocess.run(['git', 'status', '--porcelain', '--', 'email_crm_sync'], cwd=PROJECT_ROOT,
                            capture_output=True, text=True).stdout.splitlines()
    return {'addon_rev': None, 'working_tree': True, 'uncommitted_addon_files': len(status)}


def machine():
    info = {'cpus': os.cpu_count(), 'loadavg': os.getloadavg(),
            'python': sys.version.split()[0]}
    try:
        with open('/proc/meminfo') as handle:
            info['mem_total_mb'] = int(handle.readline().split()[1]) // 1024
    except OSError:
        pass
    try:
        info['git_head'] = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=PROJECT_ROOT,
                                          capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return info


def save_results(name, data, addon_rev=None):
    os.makedirs(RESULTS_DIR, exist_ok=True)
    data = dict(data, addon=addon_source(addon_rev))
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    data = dict(data, benchmark=name, finished_at=stamp, machine=machine())
    path = os.path.join(RESULTS_DIR, '%s-%s.json' % (name, stamp))
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(data, handle, indent=2, default=str)
    with open(os.path.join(RESULTS_DIR, '%s-latest.json' % name), 'w', encoding='utf-8') as handle:
        json.dump(data, handle, indent=2, default=str)
    return path


def table(headers, rows):
    """A small fixed-width text table."""
    cells = [[str(h) for h in headers]] + [['' if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append('  '.join(c.rjust(w) if index and _numeric(c) else c.ljust(w)
                               for c, w in zip(row, widths)).rstrip())
        if index == 0:
            lines.append('  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def _numeric(text):
    try:
        float(text.replace('x', '').replace('%', ''))
        return True
    except ValueError:
        return False


def fmt(value, digits=1):
    if value is None:
        return None
    return ('%.' + str(digits) + 'f') % value
