"""Where things live, and how to get a free loopback port."""
import os
import socket

DEV_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_ROOT = os.path.dirname(DEV_DIR)
RUN_DIR = os.path.join(PROJECT_ROOT, '.run')
VENV_DIR = os.path.join(PROJECT_ROOT, '.venv')
VENV_PYTHON = os.path.join(VENV_DIR, 'bin', 'python')
CURATED_ADDONS_DIR = os.path.join(VENV_DIR, 'odoo-addons')
NODE_BIN_DIR = os.path.join(DEV_DIR, 'node_modules', '.bin')
ODOO_BIN = os.path.join(DEV_DIR, 'odoo-bin')


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port, host='127.0.0.1', timeout=30.0):
    """Block until something accepts TCP connections on host:port."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError('nothing listens on %s:%s after %ss' % (host, port, timeout))
            time.sleep(0.05)
