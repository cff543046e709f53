"""Process and port bookkeeping read from /proc.

Daemons started here (Dovecot forks into the background, the SMTP relay runs
in its own session) are not always our children, and on these machines PID 1
does not necessarily reap orphans: a stopped daemon may linger as a zombie.
A zombie holds no ports and runs no code, so it counts as gone.
"""
import os
import signal
import socket
import subprocess
import time


def _stat_fields(pid):
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read().decode('utf-8', 'replace')
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may itself contain spaces.
    rest = data[data.rindex(')') + 2:].split()
    return rest  # rest[0] = state, rest[1] = ppid


def is_alive(pid):
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ('Z', 'X')


def cmdline(pid):
    """The process's command line as one string, or None if it is gone."""
    if not is_alive(pid):
        return None
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def tree(root_pid):
    """root_pid and all its living descendants."""
    children = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields and fields[0] not in ('Z', 'X'):
                children.setdefault(int(fields[1]), []).append(int(name))
    result, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        if is_alive(pid):
            result.append(pid)
        todo.extend(children.get(pid, ()))
    return result


def wait_gone(pids, timeout):
    """Wait until none of pids is alive; True if they all went."""
    deadline = time.monotonic() + timeout
    while any(is_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def port_open(port, host='127.0.0.1'):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_port_closed(port, host='127.0.0.1', timeout=5.0):
    deadline = time.monotonic() + timeout
    while port_open(port, host):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def remove_own_pidfile(path):
    """Remove the pidfile at exit only if it still names this process: a
    second instance started on the same run directory may have replaced it."""
    try:
        with open(path) as f:
            if f.read().strip() != str(os.getpid()):
                return
        os.unlink(path)
    except (FileNotFoundError, ValueError):
        pass


class ServiceLifecycle:
    """What every local service offers: use as a context manager, read its log."""
    log_path = None
    log_name = 'log'

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except FileNotFoundError:
            return '(no %s)' % self.log_name


class PythonService(ServiceLifecycle):
    """A local service run as ``python -m devenv.<module> --port P ...`` in a
    session of its own (a Ctrl-C in the terminal that started it does not
    stop it), found again through its pidfile. Subclasses set ``module``,
    ``port``, ``pidfile``, ``log_path``, ``run_dir`` and ``command()``."""
    module = None
    _proc = None

    def pid(self):
        """The service's pid if it runs (ours, or found through the pidfile)."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None
        # The pid must still be this service, not a recycled number.
        line = cmdline(pid) or ''
        if self.module in line and '--port %d ' % self.port in line + ' ':
            return pid
        return None

    def is_running(self):
        return self.pid() is not None

    def _spawn(self, cwd, timeout=20):
        """Start ``command()`` and wait until its port and pidfile are there."""
        os.makedirs(self.run_dir, exist_ok=True)
        with open(self.log_path, 'ab') as logfile:
            self._proc = subprocess.Popen(self.command(), cwd=cwd, stdin=subprocess.DEVNULL,
                                          stdout=logfile, stderr=logfile, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not (port_open(self.port) and os.path.exists(self.pidfile)):
            if self._proc.poll() is not None:
                raise RuntimeError('%s exited with %s\n%s'
                                   % (self.module, self._proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('%s did not open port %s\n%s'
                                   % (self.module, self.port, self.log_tail()))
            time.sleep(0.05)
        return self

    def stop(self, timeout=10.0):
        pid = self.pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if not wait_gone([pid], timeout):
                os.kill(pid, signal.SIGKILL)
                wait_gone([pid], 5)
        if self._proc is not None:
            self._proc.wait(timeout=5)  # reap our child
            self._proc = None
        wait_port_closed(self.port)
