"""The practical ceiling of a first import: log in with imapclient, fetch
every message of a folder with BODY.PEEK[] in batches, parse each with
``email.message_from_bytes(raw, policy=email.policy.default)``. Stores
nothing. Run by first_import.py in a process of its own (for its peak RSS):

    python bench/bare_fetch.py --port P --login L --password W --cafile CERT [--batch 200]

Prints one JSON line: messages, bytes, seconds (login to last parse),
fetch_seconds, parse_seconds.
"""
import argparse
import email
import email.policy
import json
import ssl
import sys
import time

import imapclient


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--login', required=True)
    parser.add_argument('--password', required=True)
    parser.add_argument('--cafile', required=True)
    parser.add_argument('--folder', default='INBOX')
    parser.add_argument('--batch', type=int, default=200)
    args = parser.parse_args(argv)

    started = time.monotonic()
    client = imapclient.IMAPClient(args.host, port=args.port, ssl=True,
                                   ssl_context=ssl.create_default_context(cafile=args.cafile),
                                   timeout=60)
    client.login(args.login, args.password)
    client.select_folder(args.folder, readonly=True)
    uids = sorted(client.search('ALL'))
    count = size = 0
    fetch_seconds = parse_seconds = 0.0
    for start in range(0, len(uids), args.batch):
        t0 = time.monotonic()
        answer = client.fetch(uids[start:start + args.batch], ['BODY.PEEK[]'])
        t1 = time.monotonic()
        for data in answer.values():
            raw = data[b'BODY[]']
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert message is not None
            count += 1
            size += len(raw)
        fetch_seconds += t1 - t0
        parse_seconds += time.monotonic() - t1
    seconds = time.monotonic() - started
    client.logout()
    print(json.dumps({'messages': count, 'bytes': size, 'seconds': round(seconds, 3),
                      'fetch_seconds': round(fetch_seconds, 3),
                      'parse_seconds': round(parse_seconds, 3)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
