"""Requests per second of the open-tracking pixel route against Odoo's own
/web/image of a small image, in the same run, Odoo in --workers mode.

    .venv/bin/python bench/pixel_rps.py [--emails 20000] [--workers 2] [--connections 8] [--threads 2]
                                        [--duration 20] [--warmup 5] [--rounds 3] [--image-size 16]
                                        [--load-generator auto|wrk|python] [--keep] [--addon-rev HEAD]

Installs the addon into ``ecs_bench_pixel_template`` and clones it to
``ecs_bench_pixel``. ``bench/odoo_tasks.py pixel-setup`` (code in
bench/pixel_task.py) stores ``--emails`` sent emails of one salesperson with
open tracking on (a nonce each, as the composer's ``_tracked_html`` writes)
and a ``--image-size`` px square PNG as a public ``ir.attachment``. This
process reads ``database.secret`` and makes the pixel tokens with the
measured revision's ``tracking_token.make_token``.

Then one Odoo server, prefork (``--workers``, no cron), and three kinds of
load, the same concurrency and duration each:

- ``image``: ``GET /web/image/<attachment id>`` (Odoo's own public route);
- ``pixel``: ``GET /ecs/t/o/<token>.gif`` cycling through the tokens of all
  emails but one, so that an email comes back only after all the others
  (longer than the 10 s repeat window): nearly every request writes an open;
- ``pixel_one``: the pixel of one email over and over: the repeat path
  (one open written every 10 s, the rest read only).

A warm-up of each (``--warmup`` s), then ``--rounds`` rounds of the three,
the order rotated from round to round. Load generator: ``wrk`` with
bench/pixel_wrk.lua (``apt-get install -y wrk``, as root), else threads of
persistent HTTP/1.1 connections in Python (slower: the generator itself
may then be the limit). Every answer is checked (status 200, body length);
the number of tracking events the pixel runs wrote is counted in the
database.

Reports the median requests/s and p50/p99 latency per kind and the ratio
pixel/image (and pixel_one/image), round by round too.
Results: bench/results/pixel_rps-*.json.
"""
import argparse
import base64
import glob
import hashlib
import http.client
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import common
from common import fmt, say
from devenv.odoo import OdooServer

TEMPLATE = 'ecs_bench_pixel_template'
DB = 'ecs_bench_pixel'
KINDS = ('image', 'pixel', 'pixel_one')
LABELS = {'image': '/web/image/<id> (%d B PNG)', 'pixel': '/ecs/t/o/<token>.gif, a new email each request',
          'pixel_one': '/ecs/t/o/<token>.gif, one email (repeat path)'}
# The route's answer (controllers/main.py PIXEL).
GIF = base64.b64decode('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7')
# A mail client's user agent: a person's open (the classifier reads the whole list).
USER_AGENT = ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
              'Chrome/120.0.0.0 Safari/537.36')
WRK_SCRIPT = os.path.join(common.BENCH_DIR, 'pixel_wrk.lua')


def tracking_token_module(config):
    """The measured revision's lib/tracking_token.py (no Odoo import needed)."""
    source = common.PROJECT_ROOT
    with open(config, encoding='utf-8') as handle:
        match = re.search(r'^addons_path\s*=\s*(.*)$', handle.read(), re.M)
    for entry in (match.group(1).split(',') if match else ()):
        if os.path.isfile(os.path.join(entry.strip(), 'email_crm_sync', 'lib', 'tracking_token.py')):
            source = entry.strip()
    path = os.path.join(source, 'email_crm_sync', 'lib', 'tracking_token.py')
    spec = importlib.util.spec_from_file_location('bench_tracking_token', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def events(db):
    return common.sql(db, 'SELECT count(*) FROM email_sync_tracking_event')[0][0]


def settle(db, timeout=10.0):
    """Wait for the requests still in the server when the load generator stopped
    (sent, never answered to it: up to one per connection), so that what they
    write is counted with the run that sent them. Returns the event count."""
    last, deadline = events(db), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = events(db)
        if now == last and not common.sql(db, """SELECT count(*) FROM pg_stat_activity WHERE datname = %s
                                                  AND state <> 'idle' AND pid <> pg_backend_pid()""", db)[0][0]:
            return now
        last = now
    return last


# -- CPU accounting ------------------------------------------------------------------------

CLK_TCK = os.sysconf('SC_CLK_TCK')


def _stat(pid):
    """(pgrp, utime + stime, cutime + cstime) of a process, in ticks; None when gone."""
    try:
        with open('/proc/%s/stat' % pid, encoding='ascii', errors='replace') as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[2]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def odoo_cpu(pgid):
    """CPU seconds of Odoo's process group: the live processes (master, workers,
    longpolling) plus what the master has reaped (recycled workers)."""
    ticks = 0
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            stat = _stat(entry)
            if stat and stat[0] == pgid:
                ticks += stat[1] + (stat[2] if int(entry) == pgid else 0)
    return ticks / CLK_TCK


def machine_busy():
    with open('/proc/stat', encoding='ascii') as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK


class CpuMeter:
    """CPU seconds spent during a run by Odoo, by the PostgreSQL backends of the
    database (sampled every 0.25 s: a backend that ends between two samples,
    when Odoo recycles a worker, loses at most that much), by the load
    generator, and by the whole machine."""

    def __init__(self, db, pgid):
        import psycopg2
        self.db, self.pgid = db, pgid
        self.conn = psycopg2.connect(host=common.odoo_env.DB_HOST, port=common.odoo_env.DB_PORT,
                                     user=common.odoo_env.DB_USER, dbname=db)
        self.conn.autocommit = True

    def _backends(self):
        with self.conn.cursor() as cr:
            cr.execute('SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()',
                       (self.db,))
            pids = [pid for (pid,) in cr.fetchall()]
        return {pid: stat[1] for pid, stat in ((pid, _stat(pid)) for pid in pids) if stat}

    def _sample(self):
        for pid, ticks in self._backends().items():
            self.first.setdefault(pid, 0 if self.running else ticks)
            self.last[pid] = ticks

    def _loop(self):
        while not self.stopping.wait(0.25):
            self._sample()

    def start(self):
        self.first, self.last, self.running = {}, {}, False
        self._sample()
        self.running = True
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.started = (odoo_cpu(self.pgid), machine_busy(), _children_cpu(), time.monotonic())
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self._sample()
        odoo, busy, children, began = self.started
        pg = sum(self.last[pid] - self.first[pid] for pid in self.last) / CLK_TCK
        return {'odoo_s': odoo_cpu(self.pgid) - odoo, 'postgres_s': pg,
                'loadgen_s': _children_cpu() - children, 'machine_busy_s': machine_busy() - busy,
                'wall_s': time.monotonic() - began}

    def close(self):
        self.conn.close()


def _children_cpu():
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)   # the Python generator's threads
    return usage.ru_utime + usage.ru_stime + own.ru_utime + own.ru_stime


# -- load generators ---------------------------------------------------------------------

def run_wrk(url, paths_file, start, args, duration, expected):
    command = ['wrk', '-t%d' % args.threads, '-c%d' % args.connections, '-d%ds' % duration,
               '--timeout', '10s', '-H', 'User-Agent: %s' % USER_AGENT, '-s', WRK_SCRIPT, url, '--',
               paths_file, str(start), str(args.threads), str(expected)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    lines = [l for l in done.stdout.splitlines() if l.startswith('{"wrk"')]
    if done.returncode != 0 or not lines:
        raise RuntimeError('wrk failed (rc=%s):\n%s\n%s' % (done.returncode, done.stdout[-2000:],
                                                              done.stderr[-2000:]))
    result = json.loads(lines[-1])
    result['socket_errors'] = sum(result['errors'][k] for k in ('connect', 'read', 'write', 'timeout'))
    result['slices'] = args.threads
    return result


def run_python(url, paths_file, start, args, duration, expected):
    """Threads (one per connection) of persistent HTTP/1.1 connections; the server
    may close after each answer (Odoo's prefork workers speak HTTP/1.0), then
    the connection is opened again, as wrk does."""
    with open(paths_file, encoding='ascii') as handle:
        paths = [line.strip() for line in handle if line.strip()]
    host, port = url.split('//', 1)[1].split(':')
    lock = threading.Lock()
    totals = {'requests': 0, 'non200': 0, 'bad_body': 0, 'socket_errors': 0, 'bytes': 0}
    per_connection = []
    statuses = {}
    latencies = []
    deadline = time.monotonic() + duration

    def worker(number):
        index = (start + number * (len(paths) // args.connections)) % len(paths)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        mine, counts, codes = [], dict.fromkeys(totals, 0), {}
        while time.monotonic() < deadline:
            path = paths[index]
            index = (index + 1) % len(paths)
            began = time.perf_counter()
            try:
                conn.request('GET', path, headers={'User-Agent': USER_AGENT})
                answer = conn.getresponse()
                body = answer.read()
            except (OSError, http.client.HTTPException):
                counts['socket_errors'] += 1
                conn.close()
                continue
            mine.append(time.perf_counter() - began)
            counts['requests'] += 1
            counts['bytes'] += len(body)
            if answer.status != 200:
                counts['non200'] += 1
                codes[answer.status] = codes.get(answer.status, 0) + 1
            elif len(body) != expected:
                counts['bad_body'] += 1
            if answer.will_close:
                conn.close()
        conn.close()
        with lock:
            per_connection.append(counts['requests'])
            latencies.extend(mine)
            for key, value in counts.items():
                totals[key] += value
            for code, n in codes.items():
                statuses[str(code)] = statuses.get(str(code), 0) + n

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(args.connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    seconds = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1e6) if latencies else 0

    return dict(totals, seconds=seconds, answers=totals['requests'], statuses=statuses,
                max_per_slice=max(per_connection), slices=args.connections,
                p50_us=pct(50), p90_us=pct(90), p99_us=pct(99), max_us=pct(100),
                mean_us=statistics.mean(latencies) * 1e6 if latencies else 0)


# -- main ------------------------------------------------------------------------------

def check_once(server, path, content_type, sha1):
    request = urllib.request.Request(server.url + path, headers={'User-Agent': USER_AGENT})
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = answer.read()
        kind = answer.headers.get('Content-Type', '')
        if answer.status != 200 or not kind.startswith(content_type) or hashlib.sha1(body).hexdigest() != sha1:
            raise RuntimeError('GET %s: %s %s, %d bytes (expected %s, SHA-1 %s)'
                               % (path, answer.status, kind, len(body), content_type, sha1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--emails', type=int, default=20000)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--connections', type=int, default=8)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--duration', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--image-size', type=int, default=16)
    parser.add_argument('--load-generator', choices=('auto', 'wrk', 'python'), default='auto')
    parser.add_argument('--keep', action='store_true')
    parser.add_argument('--addon-rev', default=None,
                        help='measure the addon as committed at this git revision (default: the working tree)')
    args = parser.parse_args(argv)
    args.addon_rev = common.resolve_rev(args.addon_rev)
    generator = args.load_generator
    if generator == 'auto':
        generator = 'wrk' if shutil.which('wrk') else 'python'
    if generator == 'wrk' and not shutil.which('wrk'):
        parser.error('wrk is not installed (apt-get install -y wrk)')
    if generator == 'python':
        say('wrk not found (apt-get install -y wrk): Python load generator, which may be the limit itself')
    load = run_wrk if generator == 'wrk' else run_python
    started = time.monotonic()

    run_dir = common.fresh_run_dir('pixel')
    config = common.write_config(run_dir, addon_rev=args.addon_rev)
    created = [TEMPLATE, DB]
    results = {'emails': args.emails, 'workers': args.workers, 'connections': args.connections,
               'threads': args.threads, 'duration': args.duration, 'warmup': args.warmup,
               'rounds': args.rounds, 'image_size': args.image_size, 'load_generator': generator,
               'user_agent': USER_AGENT, 'loadavg_before': os.getloadavg(), 'runs': []}
    server = None
    try:
        say('installing the addon into %s' % TEMPLATE)
        seconds = common.install(config, TEMPLATE, ['email_crm_sync'], os.path.join(run_dir, 'install.log'))
        say('installed in %.0fs; cloning to %s' % (seconds, DB))
        common.clone(config, TEMPLATE, DB)
        say('storing %d sent emails with open tracking and a public %dx%d PNG'
            % (args.emails, args.image_size, args.image_size))
        setup = common.odoo_task(config, DB, 'pixel-setup', '--emails', args.emails,
                                 '--image-size', args.image_size).json_lines()[-1]
        emails = setup.pop('emails')
        results['setup'] = setup
        say('setup done in %.1fs (attachment %d, %d bytes; %d tracked emails)'
            % (setup['seconds'], setup['attachment_id'], setup['image_bytes'], setup['tracked_emails']))
        if setup['tracked_emails'] != args.emails:
            raise RuntimeError('%d emails stored with tracking, %d asked for' % (setup['tracked_emails'], args.emails))
        secret = common.sql(DB, "SELECT value FROM ir_config_parameter WHERE key = 'database.secret'")[0][0]
        tracking_token = tracking_token_module(config)
        tokens = [tracking_token.make_token(secret, email_id, nonce, 'o') for email_id, nonce in emails]
        files = {'image': ['/web/image/%d' % setup['attachment_id']],
                 'pixel': ['/ecs/t/o/%s.gif' % t for t in tokens[:-1]],
                 'pixel_one': ['/ecs/t/o/%s.gif' % tokens[-1]]}
        paths = {}
        for kind, lines in files.items():
            paths[kind] = os.path.join(run_dir, '%s-paths.txt' % kind)
            with open(paths[kind], 'w', encoding='ascii') as handle:
                handle.write('\n'.join(lines) + '\n')
        expected = {'image': setup['image_bytes'], 'pixel': len(GIF), 'pixel_one': len(GIF)}
        results['postgres'] = {name: common.sql(DB, 'SHOW %s' % name)[0][0]
                               for name in ('synchronous_commit', 'fsync', 'shared_buffers')}

        log_path = os.path.join(run_dir, 'odoo-server.log')
        server = OdooServer(config, DB, workers=args.workers, log_path=log_path,
                            extra_args=['--max-cron-threads=0'])
        say('starting Odoo, --workers=%d, no cron' % args.workers)
        server.start()
        say('serving at %s' % server.url)

        # One request of each, checked to the byte; the pixel's must write an open.
        check_once(server, files['image'][0], 'image/png', setup['image_sha1'])
        before = events(DB)
        check_once(server, files['pixel'][0], 'image/gif', hashlib.sha1(GIF).hexdigest())
        if events(DB) != before + 1:
            raise RuntimeError('the pixel of a tracked email answered, but no open was written '
                               '(see %s)' % log_path)
        pixel_requests = 1
        say('checked: the image is served to anyone, a pixel request writes one open')

        meter = CpuMeter(DB, server.process.pid)
        offsets = dict.fromkeys(KINDS, 1)   # where the next run starts in each path list

        def one_run(kind, duration, round_index, position):
            nonlocal pixel_requests
            before = events(DB)
            meter.start()
            result = load(server.url, paths[kind], offsets[kind], args, duration, expected[kind])
            written = settle(DB) - before
            cpu = meter.stop()
            cpu['others_s'] = max(cpu['machine_busy_s'] - cpu['odoo_s'] - cpu['postgres_s'] - cpu['loadgen_s'], 0.0)
            for key in ('odoo', 'postgres'):
                cpu[key + '_ms_per_request'] = 1000.0 * cpu[key + '_s'] / max(result['requests'], 1)
            # Each thread (connection) of the generator walks its own part of the list: the next
            # run starts after the furthest any of them went, plus what was left in flight.
            offsets[kind] = (offsets[kind] + result['max_per_slice'] + args.connections) % len(files[kind])
            if kind != 'image':
                pixel_requests += result['requests']
            result.update(kind=kind, round=round_index, position=position, events_written=written, cpu=cpu,
                          rps=result['requests'] / result['seconds'] if result['seconds'] else 0)
            say('%-9s %s: %7.1f req/s, p50 %6.2f ms, p99 %6.2f ms, non-200 %d, wrong body %d, '
                'socket errors %d, opens written %d; CPU ms/request Odoo %.2f, PostgreSQL %.2f; '
                'CPU s: load generator %.1f, others %.1f'
                % (kind, 'warm-up' if round_index is None else 'round %d' % (round_index + 1), result['rps'],
                   result['p50_us'] / 1000.0, result['p99_us'] / 1000.0, result['non200'], result['bad_body'],
                   result['socket_errors'], written, cpu['odoo_ms_per_request'],
                   cpu['postgres_ms_per_request'], cpu['loadgen_s'], cpu['others_s']))
            results['runs'].append(result)
            return result

        for position, kind in enumerate(KINDS):
            one_run(kind, args.warmup, None, position)
        for round_index in range(args.rounds):
            order = KINDS[round_index % len(KINDS):] + KINDS[:round_index % len(KINDS)]
            for position, kind in enumerate(order):
                one_run(kind, args.duration, round_index, position)

        meter.close()
        total_events = events(DB)
        # The repeat path: one open per 10 s is what the route means to write for one email.
        dates = [row[0] for row in common.sql(
            DB, "SELECT event_date FROM email_sync_tracking_event WHERE message_id = %s AND kind = 'open' "
                "ORDER BY event_date", emails[-1][0])]
        gaps = [(b - a).total_seconds() for a, b in zip(dates, dates[1:])]
        results['pixel_one_opens'] = {'count': len(dates), 'gaps_s': [round(g, 4) for g in gaps],
                                      'within_10s': sum(1 for g in gaps if g < 10),
                                      'within_100ms': sum(1 for g in gaps if g < 0.1)}
        results['pixel_requests_total'] = pixel_requests
        # Up to one request per connection is still in the server when wrk stops: sent, processed,
        # never counted by wrk.
        results['pixel_requests_unanswered_max'] = args.connections * sum(
            1 for r in results['runs'] if r['kind'] != 'image')
        results['events_total'] = total_events
        results['events_plausible'] = 0 < total_events <= pixel_requests + results['pixel_requests_unanswered_max']
        with open(log_path, encoding='utf-8', errors='replace') as handle:
            log = handle.read()
        results['log'] = {'errors': len(re.findall(r'^\S+ \S+ \d+ ERROR ', log, re.M)),
                          'open_failures': log.count('Recording an email open failed'),
                          'tracebacks': log.count('Traceback'),
                          'tail': log[-3000:] if 'ERROR' in log else ''}
        sessions = glob.glob(os.path.join(common.data_dir_of(config), 'sessions', '*'))
        results['session_files'] = len(sessions)
        server.stop()
        server = None
        summarize(results)
        results['total_seconds'] = round(time.monotonic() - started, 1)
        report(results, args)
        path = common.save_results('pixel_rps', results, args.addon_rev)
        print()
        print('total %.0fs; results: %s' % (results['total_seconds'], path))
        return 0 if results['events_plausible'] and not results['bad_answers'] else 1
    finally:
        if server:
            server.stop()
            say('server stopped')
        if not args.keep:
            common.drop(config, *created)
            say('databases dropped')


def summarize(results):
    measured = [r for r in results['runs'] if r['round'] is not None]
    summary = {}
    for kind in KINDS:
        runs = [r for r in measured if r['kind'] == kind]
        summary[kind] = {
            'rps': statistics.median(r['rps'] for r in runs),
            'rps_rounds': [r['rps'] for r in runs],
            'p50_ms': statistics.median(r['p50_us'] for r in runs) / 1000.0,
            'p99_ms': statistics.median(r['p99_us'] for r in runs) / 1000.0,
            'requests': sum(r['requests'] for r in runs),
            'non200': sum(r['non200'] for r in runs),
            'bad_body': sum(r['bad_body'] for r in runs),
            'socket_errors': sum(r['socket_errors'] for r in runs),
            'events_written': sum(r['events_written'] for r in runs),
            'odoo_cpu_ms': statistics.median(r['cpu']['odoo_ms_per_request'] for r in runs),
            'postgres_cpu_ms': statistics.median(r['cpu']['postgres_ms_per_request'] for r in runs),
            'loadgen_cpu_share': statistics.median(r['cpu']['loadgen_s'] / r['cpu']['wall_s'] for r in runs),
            'others_cpu_share': statistics.median(r['cpu']['others_s'] / r['cpu']['wall_s'] for r in runs),
        }
    for kind in ('pixel', 'pixel_one'):
        summary[kind]['ratio'] = summary[kind]['rps'] / summary['image']['rps']
        summary[kind]['ratio_rounds'] = [p / i for p, i in zip(summary[kind]['rps_rounds'],
                                                                summary['image']['rps_rounds'])]
        summary[kind]['cpu_ratio'] = ((summary[kind]['odoo_cpu_ms'] + summary[kind]['postgres_cpu_ms'])
                                      / (summary['image']['odoo_cpu_ms'] + summary['image']['postgres_cpu_ms']))
    results['summary'] = summary
    results['bad_answers'] = sum(r['non200'] + r['bad_body'] for r in results['runs'])


def report(results, args):
    s = results['summary']
    print()
    print('%s, Odoo --workers=%d (no cron), %d connections, %d wrk threads, %d s per run, '
          'median of %d rounds (after a %d s warm-up of each)'
          % (results['load_generator'], args.workers, args.connections, args.threads, args.duration,
             args.rounds, args.warmup))
    rows = []
    for kind in KINDS:
        k = s[kind]
        label = LABELS[kind] % results['setup']['image_bytes'] if kind == 'image' else LABELS[kind]
        rows.append([label, fmt(k['rps']), ' '.join('%.0f' % v for v in k['rps_rounds']),
                     fmt(k['p50_ms'], 2), fmt(k['p99_ms'], 2),
                     fmt(k['ratio'], 2) + 'x' if 'ratio' in k else '', k['requests'],
                     '%d / %d' % (k['non200'], k['bad_body']),
                     k['events_written'] if kind != 'image' else ''])
    print(common.table(['route', 'req/s', 'rounds', 'p50 ms', 'p99 ms', 'vs image', 'requests',
                        'non-200 / wrong body', 'opens written'], rows))
    for kind in ('pixel', 'pixel_one'):
        print('  %s/image round by round: %s' % (kind, ' '.join('%.2f' % r for r in s[kind]['ratio_rounds'])))
    print()
    print('CPU per request (median of the rounds); CPUs used meanwhile by the load generator and by the rest of the machine (other processes, kernel) out of %d'
          % os.cpu_count())
    rows = []
    for kind in KINDS:
        k = s[kind]
        rows.append([kind, fmt(k['odoo_cpu_ms'], 2), fmt(k['postgres_cpu_ms'], 2),
                     fmt(k['odoo_cpu_ms'] + k['postgres_cpu_ms'], 2),
                     fmt(k['cpu_ratio'], 2) + 'x' if 'cpu_ratio' in k else '',
                     fmt(k['loadgen_cpu_share'], 2), fmt(k['others_cpu_share'], 2)])
    print(common.table(['route', 'Odoo CPU ms', 'PostgreSQL CPU ms', 'together', 'vs image',
                        'load generator CPUs', 'rest of the machine CPUs'], rows))
    pixel = s['pixel']
    print('  pixel: opens written / requests answered = %.1f %% (requests still in the server when wrk stopped '
          'write too; below 100 %%: opens within 10 s of an earlier open of the same email)'
          % (100.0 * pixel['events_written'] / max(pixel['requests'], 1)))
    if pixel['events_written'] < 0.9 * pixel['requests']:
        print('  WARNING: the pixel runs came back to an email within 10 s: use more --emails '
              '(more than 10 s x req/s = %d)' % (10 * pixel['rps']))
    print('  pixel_one: %d opens written in %d requests over %d runs of %d s'
          % (s['pixel_one']['events_written'], s['pixel_one']['requests'], args.rounds, args.duration))
    one = results['pixel_one_opens']
    print('  pixel_one, all runs: %d opens of the one email; %d of them less than 10 s after the previous one '
          '(%d less than 100 ms: concurrent requests that each found no recent open); gaps in s: %s'
          % (one['count'], one['within_10s'], one['within_100ms'], ' '.join('%.3f' % g for g in one['gaps_s'])))
    print('  tracking events in the database: %d, pixel requests answered: %d, + at most %d left in the server '
          'when wrk stopped (check 0 < events <= requests: %s)'
          % (results['events_total'], results['pixel_requests_total'], results['pixel_requests_unanswered_max'],
             'ok' if results['events_plausible'] else 'FAILED'))
    print('  socket errors (all runs): %d; Odoo log: %d ERROR lines, %d "Recording an email open failed"'
          % (sum(r['socket_errors'] for r in results['runs']), results['log']['errors'],
             results['log']['open_failures']))
    print('  session files Odoo wrote (one per request without a cookie, both routes): %d'
          % results['session_files'])
    print('  PostgreSQL: synchronous_commit=%s, fsync=%s; load average before the run: %s'
          % (results['postgres']['synchronous_commit'], results['postgres']['fsync'],
             ' '.join('%.2f' % v for v in results['loadavg_before'])))


if __name__ == '__main__':
    sys.exit(main())
