"""Helpers for proxierd's integration tests: free ports, a `Daemon` that writes a config file
and runs $PROXIERD, and `ProxierTestCase`, a unittest base class with a running TestACS
(tests/acs) and a temporary directory, that prints the daemon log and the ACS records when
a test fails and by default fails a test whose CPE messages broke the schemas or the
protocol rules the ACS checks.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from acs import soapmsg  # noqa: E402  (re-exported: tests build RPCs with it)
from acs.acs import TestACS  # noqa: E402

__all__ = ["free_port", "wait_port", "wait_until", "render_config", "merge_config", "Daemon",
           "ProxierTestCase", "TestACS", "soapmsg"]


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, host="127.0.0.1"):
    """Block until something accepts TCP connections on port; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {host}:{port} after {timeout} s")


def wait_until(predicate, timeout=10.0, what="condition", interval=0.05):
    """Poll predicate() until true; AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timeout ({timeout} s) waiting for {what}")


def ctl_raw(sock_path, line, timeout=5.0, linger=0.0):
    """Send the bytes `line` and a newline to proxierd's control socket; the raw reply bytes
    up to the first newline, plus whatever else arrives within `linger` seconds after it (a
    forged second reply line would)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(line + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if linger:
            time.sleep(linger)
            s.setblocking(False)
            try:
                data += s.recv(4096)
            except BlockingIOError:
                pass
        return data


def ctl_command(sock_path, line, timeout=5.0):
    """One command on proxierd's control socket (proxier/ctl/ctl.h); returns its reply line
    without the newline ("ok ..." or "error CODE message")."""
    return ctl_raw(sock_path, line.encode(), timeout).decode().rstrip("\n")


def render_config(config):
    """INI text: {section: {key: value}} -> "[section]" + "key = value" lines. Booleans
    become true/false; None values are left out."""
    lines = []
    for section, keys in config.items():
        lines.append(f"[{section}]")
        for key, value in keys.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)


def merge_config(base, overrides):
    """A copy of base with overrides {section: {key: value}} applied (None deletes a key)."""
    out = {section: dict(keys) for section, keys in base.items()}
    for section, keys in (overrides or {}).items():
        out.setdefault(section, {}).update(keys)
    return out


class Daemon:
    """One proxierd process: `proxierd --config <workdir>/proxierd.conf [extra args]`, stdout
    and stderr appended to <workdir>/proxierd.log (kept across restarts)."""

    def __init__(self, config, workdir, binary=None, extra_args=(), wrapper=()):
        self.config = config
        self.workdir = workdir
        self.binary = binary or os.environ.get("PROXIERD")
        if not self.binary:
            raise unittest.SkipTest("PROXIERD is not set (run through ctest)")
        self.extra_args = list(extra_args)
        self.wrapper = list(wrapper)   # e.g. ["valgrind", "--error-exitcode=9"]
        self.config_path = os.path.join(workdir, "proxierd.conf")
        self.log_path = os.path.join(workdir, "proxierd.log")
        self.proc = None
        self.exit_codes = []   # return codes of the processes that ended, in order

    @property
    def db_path(self):
        return self.config.get("cache", {}).get("path")

    @property
    def cr_port(self):
        return self.config.get("connection_request", {}).get("port")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        if self.running():
            raise RuntimeError("proxierd is already running")
        with open(self.config_path, "w") as f:
            f.write(render_config(self.config))
        with open(self.log_path, "ab") as log:
            log.write(f"==== start {time.strftime('%H:%M:%S')}: {self.binary} --config "
                      f"{self.config_path} {' '.join(self.extra_args)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen([*self.wrapper, self.binary, "--config", self.config_path,
                                          *self.extra_args], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        return self

    def _reap(self, timeout):
        code = self.proc.wait(timeout)
        self.exit_codes.append(code)
        self.proc = None
        return code

    def stop(self, timeout=10.0):
        """SIGTERM, wait up to timeout, then SIGKILL (by PID). Returns the exit code
        (negative = killed by that signal), None if it was not running."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self._reap(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self._reap(timeout)

    def kill9(self):
        """SIGKILL now (a power cut for the cache); returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        return self._reap(10)

    def wait_exit(self, timeout=10.0):
        """Wait for the process to exit by itself; returns its exit code."""
        return self._reap(timeout)

    def restart(self, timeout=10.0):
        self.stop(timeout)
        return self.start()

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ")


def sanitizer_report(log):
    """The first AddressSanitizer, LeakSanitizer or UBSan report in a daemon's output (up to
    40 lines of it), or None."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if any(m in line for m in SANITIZER_MARKERS):
            return "\n".join(lines[i:i + 40])
    return None


class ProxierTestCase(unittest.TestCase):
    """Base class: self.acs (a started TestACS built from acs_options), self.tmp (a temporary
    directory), self.start_daemon(overrides) -> Daemon. On failure prints the daemon log and
    the ACS records. With strict_acs (default) a test also fails if any CPE message was
    schema-invalid or broke a protocol rule (TestACS.assert_clean)."""

    acs_options = {}
    strict_acs = True

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="proxierd-it-")
        self.daemons = []
        self.acs = TestACS(**self.acs_options).start()
        self.addCleanup(self.acs.stop)
        self.addCleanup(self._stop_daemons)   # runs first: daemon down before the ACS

    def tearDown(self):
        if self.strict_acs:
            self.acs.assert_clean()
        super().tearDown()

    def default_config(self):
        """Config for a daemon talking to self.acs: fast retries, no periodic Inform,
        debug log to stderr, cache and CR port private to this test."""
        return {
            "acs": {"url": self.acs.url,
                    "username": self.acs.auth.username if self.acs.auth else None,
                    "password": self.acs.auth.password if self.acs.auth else None,
                    "ca_file": self.acs.cert_file},
            "device": {"serial_number": "PXTEST0001"},
            "cwmp": {"periodic_inform_enable": False, "retry_minimum_wait": 1},
            "connection_request": {"port": free_port(), "address": "127.0.0.1",
                                   "username": "cruser", "password": "crpass"},
            "cache": {"path": os.path.join(self.tmp, "proxierd.db")},
            "log": {"level": "debug", "target": "stderr"},
        }

    def start_daemon(self, overrides=None, extra_args=(), start=True, wrapper=()):
        """A Daemon with default_config() + overrides ({section: {key: value}})."""
        d = Daemon(merge_config(self.default_config(), overrides), self.tmp,
                   extra_args=extra_args, wrapper=wrapper)
        self.daemons.append(d)
        return d.start() if start else d

    def _stop_daemons(self):
        # A sanitizer build reports memory errors, leaks (at exit) and undefined behaviour on
        # the daemon's stderr, which is its log here: stop every daemon, then read them (a
        # cleanup that raises makes the test an error).
        for d in self.daemons:
            d.stop()
        for d in self.daemons:
            report = sanitizer_report(d.log_text())
            if report:
                raise AssertionError(f"proxierd ({d.log_path}) reported:\n{report}")

    def run(self, result=None):
        result = result or self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            if len(result.failures) + len(result.errors) > before:
                self._dump()
            if hasattr(self, "tmp"):
                shutil.rmtree(self.tmp, ignore_errors=True)

    def _dump(self):
        out = sys.stderr
        for i, d in enumerate(getattr(self, "daemons", [])):
            out.write(f"\n---- proxierd log #{i} ({d.log_path}), exits {d.exit_codes} ----\n")
            out.write(d.log_text()[-60000:])
        acs = getattr(self, "acs", None)
        if acs:
            out.write(f"\n---- test ACS: {len(acs.sessions)} sessions ----\n")
            for s in acs.sessions:
                out.write(f"{s!r}\n")
            for v in acs.violations:
                out.write(f"violation: {v}\n")
            for label, err in acs.validation_errors:
                out.write(f"invalid: {label}\n{err}\n")
        out.write("---- end ----\n")
