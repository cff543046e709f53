"""How long the MIME parser takes on hostile mail: per kind of the hostile
corpus (devenv.hostile_mail), and for address headers of growing size (a From
of "a", N blanks and "b" once took 100 s at N = 200,000).

    .venv/bin/python bench/hostile_parse.py [--repeat 3]

Pure Python, no services: about 10 seconds. Prints two tables and writes
bench/results/hostile_parse-<stamp>.json (and -latest.json).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # noqa: E402
from devenv.hostile_mail import hostile_corpus  # noqa: E402
from email_crm_sync.lib.mime_parser import parse_message  # noqa: E402

HEADERS = {
    'From: a, N blanks, b': lambda n: b'From: a' + b' ' * n + b'b',
    'From: N nested comments': lambda n: b'From: ' + b'(' * n + b')' * n + b' a@x.example',
    'To: N addresses': lambda n: b'To: ' + b', '.join(b'p%d@x.example' % k for k in range(n // 16)),
    'Subject: N/14 encoded words': lambda n: b'Subject: ' + b'=?utf-8?q?a?= ' * (n // 14),
}
SIZES = (10000, 100000, 1000000)


def best_of(repeat, function, *args):
    best = float('inf')
    for _ in range(repeat):
        started = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - started)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()

    per_kind = {}
    for case in hostile_corpus():
        seconds = best_of(args.repeat, parse_message, case.raw)
        entry = per_kind.setdefault(case.kind, {'count': 0, 'total_ms': 0.0, 'max_ms': 0.0,
                                                'bytes': 0})
        entry['count'] += 1
        entry['total_ms'] += seconds * 1000
        entry['max_ms'] = max(entry['max_ms'], seconds * 1000)
        entry['bytes'] = max(entry['bytes'], len(case.raw))
    rows = [(kind, e['count'], e['bytes'], common.fmt(e['total_ms'] / e['count'], 2),
             common.fmt(e['max_ms'], 2)) for kind, e in sorted(per_kind.items(),
                                                              key=lambda item: -item[1]['max_ms'])]
    print(common.table(('kind', 'cases', 'largest bytes', 'mean ms', 'max ms'), rows))

    scaling = {}
    for name, make in HEADERS.items():
        scaling[name] = {}
        for size in SIZES:
            raw = make(size) + b'\r\nContent-Type: text/plain\r\n\r\nx'
            scaling[name][size] = best_of(args.repeat, parse_message, raw) * 1000
    print()
    print(common.table(['header'] + ['N=%d ms' % size for size in SIZES],
                       [[name] + [common.fmt(scaling[name][size], 1) for size in SIZES]
                        for name in HEADERS]))
    path = common.save_results('hostile_parse', {'per_kind': per_kind, 'header_scaling_ms': scaling})
    print('\nresults: %s' % path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
